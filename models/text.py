"""Free text as clients send it: printable, with a length limit at every use.

`PlainText` refuses NUL and the other C0 control characters and DEL (a name, a reason or a key is
one line, and a NUL breaks PostgreSQL text columns); each field adds its own `max_length`.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field

NO_CONTROL_CHARACTERS = r"^[^\x00-\x1f\x7f]*$"
_CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f]")


def refuse_control_characters(value: str) -> str:
    found = _CONTROL_CHARACTER.search(value)
    if found is not None:
        raise ValueError(f"control character {found.group()!r} at position {found.start()} is not allowed")
    return value


PlainText = Annotated[
    str, AfterValidator(refuse_control_characters), Field(json_schema_extra={"pattern": NO_CONTROL_CHARACTERS})
]
