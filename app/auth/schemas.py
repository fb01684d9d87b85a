from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import StringConstraints

from app.companies.schemas import UserOut
from app.core.schemas import InputModel, OutModel


class LoginInput(InputModel):
    email: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=320)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class SessionOut(OutModel):
    access_token: str
    expires_at: dt.datetime
    user: UserOut
