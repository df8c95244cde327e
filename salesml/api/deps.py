"""What a route declares it needs: the app's services, and the request's user once their role
allows the route's action (salesml.api.access checks the token and the role)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from salesml.api.access import allowed
from salesml.api.services import Services
from salesml.auth import Principal


# Async, so FastAPI calls it on the event loop rather than sending it to the thread pool.
async def get_services(request: Request) -> Services:
    """The Services the app was created with."""
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(get_services)]

UserMayLoad = Annotated[Principal, allowed("load")]
UserMayTrain = Annotated[Principal, allowed("train")]
UserMayForecast = Annotated[Principal, allowed("forecast")]
UserMayDelete = Annotated[Principal, allowed("delete")]
