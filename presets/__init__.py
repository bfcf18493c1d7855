"""The bundled presets, shipped inside the package as `designer.presets_data`
(setup.py maps this folder there). Code reads them through `designer.bundled`.
build_presets.py, which writes them, is left out of the wheel."""
