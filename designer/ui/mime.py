"""Mime types the window's parts hand each other in drags and on the clipboard."""

# a palette entry dragged onto the canvas: the block type, or "library:<name>" for a
# composite from the personal block library
BLOCK_MIME = "application/x-network-designer-block"
LIBRARY_PREFIX = "library:"

# copied nodes: a regular document (the file format) as UTF-8 JSON
CLIPBOARD_MIME = "application/x-network-designer"
