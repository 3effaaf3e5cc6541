"""Every configuration key the settings models accept is documented in config.example.toml."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel

from threadline.config import AppSettings as Settings

EXAMPLE = (Path(__file__).resolve().parent.parent / "config.example.toml").read_text()
KEYS = set(re.findall(r"^[#\s]*([a-z_][a-z0-9_]*)\s*=", EXAMPLE, re.M))
SECTIONS = {
    part
    for header in re.findall(r"^[#\s]*\[+([A-Za-z0-9_.]+)\]+", EXAMPLE, re.M)
    for part in header.split(".")
}


def _fields(model: type[BaseModel], seen: set[type[BaseModel]]) -> list[tuple[str, str]]:
    if model in seen:
        return []
    seen.add(model)
    found: list[tuple[str, str]] = []
    for name, field in model.model_fields.items():
        found.append((model.__name__, name))
        stack: list[Any] = [field.annotation]
        while stack:
            kind = stack.pop()
            if isinstance(kind, type) and issubclass(kind, BaseModel):
                found += _fields(kind, seen)
            stack.extend(get_args(kind))
    return found


def test_every_key_is_documented_in_the_example() -> None:
    fields = _fields(Settings, set())
    assert len(fields) > 100, "the settings models were not walked"
    undocumented = [f"{model}.{name}" for model, name in fields if name not in KEYS | SECTIONS]
    assert undocumented == [], "document these keys in config.example.toml (a commented line will do)"
