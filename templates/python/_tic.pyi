# Types of the guest runtime module the generated SDK calls into (tooliscode).
from typing import Any

class ToolError(Exception):
    """A tool call that failed on the host; `type` names the host's error."""

    type: str
    def __init__(self, type: str, message: str) -> None: ...

class ToolArgumentError(ToolError, TypeError, ValueError):
    """Arguments that break the tool's JSON Schema (checked by the host before the call)."""

class _Binary:
    mimeType: str
    data: bytes
    def save(self, path: str) -> str: ...

class Image(_Binary):
    """An image a tool returned: `.mimeType`, `.data` (bytes), `.save(path)`."""

class Audio(_Binary):
    """Audio a tool returned: `.mimeType`, `.data` (bytes), `.save(path)`."""

class Resource:
    """A resource a tool returned: `.uri`, `.mimeType`, `.text` (None for binary content), `.data`, `.save(path)`."""

    uri: str
    mimeType: str | None
    text: str | None
    data: bytes | None
    name: str | None
    description: str | None
    def save(self, path: str) -> str: ...

class ResourceLink(Resource):
    """A link to a resource the tool did not include: `.uri`, `.name`, `.mimeType`; `.text` and `.data` are None."""

# A parameter default that is never sent (see _tic.default); `Any` so any type accepts it.
NOT_GIVEN: Any

def default(value: object) -> Any: ...
def call(tool: str, args: dict[str, Any], optional: tuple[str, ...] = ..., namespace: str | None = ...) -> Any: ...
async def call_async(tool: str, args: dict[str, Any], optional: tuple[str, ...] = ..., namespace: str | None = ...) -> Any: ...
def search(tools: list[tuple[str, str, str]], query: str) -> list[str]: ...
