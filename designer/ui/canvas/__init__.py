"""The node-graph canvas: the scene (a pure observer of one graph), its items (node
cards, ports, edges), the view (zoom, pan, drops and editing gestures), the
drag-to-connect interaction, the layered auto-layout and the ops of compound edits."""
