"""MCP content a tool returned that is not plain data, as small Python objects.

The host sends the content blocks of a CallToolResult as they are (see runtime/tools.ts
`toReply`); here text stays a string, and images, audio and resources become objects
whose repr is one short line: a cell that prints a result never floods the model's
context with base64.
"""

import base64
import binascii


class _Binary:
    __slots__ = ("mimeType", "data")

    def __init__(self, mimeType: str, data: bytes):
        self.mimeType = mimeType
        self.data = data

    def save(self, path: str) -> str:
        """Writes the bytes to `path` (in /workspace when relative); returns the path."""
        with open(path, "wb") as f:
            f.write(self.data)
        return path

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.mimeType or 'unknown type'} {len(self.data)} bytes>"


class Image(_Binary):
    """An image a tool returned: `.mimeType`, `.data` (bytes), `.save(path)`."""


class Audio(_Binary):
    """Audio a tool returned: `.mimeType`, `.data` (bytes), `.save(path)`."""


class Resource:
    """A resource a tool returned: `.uri`, `.mimeType`, `.text` (str, or None for binary
    content), `.data` (the bytes: the text encoded as UTF-8, or the blob), `.save(path)`."""

    __slots__ = ("uri", "mimeType", "text", "data", "name", "description")

    def __init__(self, uri: str, mimeType=None, text=None, data=None, name=None, description=None):
        self.uri = uri
        self.mimeType = mimeType
        self.text = text
        self.data = data if data is not None else (text.encode() if text is not None else None)
        self.name = name
        self.description = description

    def save(self, path: str) -> str:
        """Writes the content to `path` (in /workspace when relative); returns the path."""
        if self.data is None:
            raise ValueError(f"{self.uri}: the tool sent a link to this resource, not its content")
        with open(path, "wb") as f:
            f.write(self.data)
        return path

    def __repr__(self) -> str:
        size = f"{len(self.text)} chars" if self.text is not None else f"{len(self.data)} bytes" if self.data is not None else "link"
        return f"<{type(self).__name__} {self.uri} {self.mimeType or 'unknown type'} {size}>"


class ResourceLink(Resource):
    """A link to a resource the tool did not include: `.uri`, `.name`, `.mimeType`,
    `.description`; `.text` and `.data` are None."""

    def __repr__(self) -> str:
        return f"<ResourceLink {self.uri} {self.mimeType or 'unknown type'}>"


def _bytes(block: dict, field: str, what: str) -> bytes:
    from _tic import ToolError

    try:
        return base64.b64decode(block.get(field) or "", validate=True)
    except (binascii.Error, TypeError, ValueError):
        raise ToolError("ToolError", f"the tool returned {what} whose data is not base64") from None


def _block(block: dict):
    kind = block.get("type")
    if kind == "text":
        return str(block.get("text", ""))
    if kind == "image":
        return Image(str(block.get("mimeType", "")), _bytes(block, "data", "an image"))
    if kind == "audio":
        return Audio(str(block.get("mimeType", "")), _bytes(block, "data", "audio"))
    if kind == "resource":
        r = block.get("resource") or {}
        text = r.get("text")
        data = _bytes(r, "blob", "a resource") if "blob" in r else None
        return Resource(str(r.get("uri", "")), r.get("mimeType"), text if isinstance(text, str) else None, data, r.get("name"), r.get("description"))
    if kind == "resource_link":
        return ResourceLink(str(block.get("uri", "")), block.get("mimeType"), None, None, block.get("name"), block.get("description"))
    return block  # a kind this runtime does not know stays a dict


def decode(blocks: list):
    """One block is the value itself; several are a list."""
    values = [_block(b) if isinstance(b, dict) else b for b in blocks]
    return values[0] if len(values) == 1 else values
