import base64
import hashlib
import uuid

data = "tooliscode".encode()
print(hashlib.sha256(data).hexdigest()[:16], hashlib.md5(data).hexdigest()[:8])
enc = base64.b64encode(b"\x00\x01hello")
print(enc, base64.b64decode(enc), base64.urlsafe_b64encode(b"??>>").decode())
print(uuid.uuid5(uuid.NAMESPACE_DNS, "example.com"), uuid.UUID("12345678123456781234567812345678").hex[:8])
