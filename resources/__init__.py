"""Sample images and other files the application ships, inside the package as
`designer.resources_data` (setup.py maps this folder there). Code reads them
through `designer.bundled`."""
