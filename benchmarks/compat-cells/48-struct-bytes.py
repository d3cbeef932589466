import struct

packed = struct.pack("<IhB3s", 1024, -2, 255, b"abc")
print(packed.hex(), len(packed))
print(struct.unpack("<IhB3s", packed))
b = bytearray(b"hello")
b[0] = ord("J")
print(bytes(b), b.upper(), int.from_bytes(b"\x01\x00", "little"), (513).to_bytes(2, "big"))
