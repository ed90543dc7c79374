"""The command-line layer: one module per command, each parse -> call one function -> render."""
