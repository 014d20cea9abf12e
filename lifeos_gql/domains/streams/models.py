"""The ``streams`` table and its inputs."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel


class SourceKind(StrEnum):
    EMAIL = "email"
    EBOOK = "ebook"
    DOCUMENT = "document"
    MESSAGE = "message"
    NOTE = "note"
    CALENDAR = "calendar"
    WEARABLE = "wearable"
    LOCATION = "location"
    WEB = "web"
    OTHER = "other"


class Stream(SQLModel, table=True):
    __tablename__ = "streams"

    id: uuid.UUID = Field(primary_key=True)
    owner_id: uuid.UUID
    name: str
    source: str
    settings: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB))
    created_at: datetime
    updated_at: datetime


MAX_NAME_LENGTH = 200
