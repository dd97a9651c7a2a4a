"""Labels and derivation constants (PROTOCOL.md 3)."""
L_SIG_IDENTITY = b"ti-v1 sig identity-dh\x00"
L_SIG_SPK = b"ti-v1 sig signed-prekey\x00"
L_SIG_KEM = b"ti-v1 sig kem-prekey\x00"
L_TRANSCRIPT = b"ti-v1 pqxdh transcript\x00"
L_PQXDH_KDF = b"ti-v1 pqxdh kdf\x00"
L_ROOT = b"ti-v1 root\x00"
L_HEADER_KEY = b"ti-v1 header key\x00"

CHAIN_MESSAGE = b"\x01"
CHAIN_NEXT = b"\x02"
F = b"\xff" * 32
PQXDH_SALT = bytes(32)

# The hex column of the table in section 3, checked at import.
assert L_SIG_IDENTITY.hex() == "74692d763120736967206964656e746974792d646800"
assert L_SIG_SPK.hex() == "74692d763120736967207369676e65642d7072656b657900"
assert L_SIG_KEM.hex() == "74692d763120736967206b656d2d7072656b657900"
assert L_TRANSCRIPT.hex() == "74692d7631207071786468207472616e73637269707400"
assert L_PQXDH_KDF.hex() == "74692d7631207071786468206b646600"
assert L_ROOT.hex() == "74692d763120726f6f7400"
assert L_HEADER_KEY.hex() == "74692d763120686561646572206b657900"
