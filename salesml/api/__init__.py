"""The REST API served beside the app: sales in, forecasts out, results back."""

from salesml.api.app import PREFIX, ApiFirst, asgi, create_api
from salesml.api.services import Services, standalone

__all__ = ["PREFIX", "ApiFirst", "Services", "asgi", "create_api", "standalone"]
