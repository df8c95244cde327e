"""salesml: sales history in a real database, explored in the browser, honestly forecast."""

__version__ = "0.1.0"
