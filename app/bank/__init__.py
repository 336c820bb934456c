"""The built-in question bank (Markdown files) and importers for other formats."""
