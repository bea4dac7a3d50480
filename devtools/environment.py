"""How a host-side tool reads its variables: one reader per kind, each naming the variable
when its value is wrong instead of ending in a bare ``int()`` traceback.

True and false are spelled as the emulator reads them (app/gateway_emulator/config.py);
Django's code reads its variables with django-environ instead (app/config/settings.py).
"""

import os
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")

TRUE = frozenset({"1", "true", "yes", "on"})
FALSE = frozenset({"", "0", "false", "no", "off"})


class BadVariable(ValueError):
    """A variable is missing or holds a value of the wrong kind; the message names it."""


def env_str(name: str, default: str | None = None) -> str:
    """The variable's text; without a default it must be set."""
    value = os.environ.get(name, default)
    if value is None:
        raise BadVariable(f"{name} must be set")
    return value


def env_int(name: str, default: int) -> int:
    return _parsed(name, default, int, "a whole number")


def env_float(name: str, default: float) -> float:
    return _parsed(name, default, float, "a number")


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    word = value.strip().lower()
    if word not in TRUE | FALSE:
        raise BadVariable(f"{name}={value!r} must be true or false (1/0, yes/no, on/off)")
    return word in TRUE


def env_list(name: str, default: Sequence[str]) -> list[str]:
    """Comma-separated names; blanks between commas are dropped."""
    value = os.environ.get(name)
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def _parsed(name: str, default: T, parse: Callable[[str], T], kind: str) -> T:
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        return parse(value)
    except ValueError:
        raise BadVariable(f"{name}={value!r} must be {kind}") from None
