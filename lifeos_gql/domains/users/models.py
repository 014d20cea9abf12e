"""The ``users`` table."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import Field, SQLModel


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: uuid.UUID = Field(primary_key=True)
    external_subject: str
    email: str | None = None
    name: str | None = None
    created_at: datetime
    updated_at: datetime
