"""tiproto: an independent Python implementation of the target-impl protocol, suite v1.

Written from docs/PROTOCOL.md and vectors/README.md (plus the vector JSON Schema) only, to
re-derive the published known-answer vectors under vectors/data. One module per concern:

- errors:   the seven error classes (PROTOCOL.md 11)
- ed25519:  strict Ed25519 verification in plain integer arithmetic (2.1)
- suite:    the primitives of suite v1 (2), wrapping `cryptography` and `kyber-py`
- labels:   labels and derivation constants (3)
- wire:     byte layouts: bundle, initial prefix, ratchet framing, header, body, padding
            (5.6, 6.2, 7.6, 8)
- rng:      an RNG that replays recorded draws (12)
- pqxdh:    the PQXDH derivation (6.3)
- ratchet:  the Double Ratchet session with header encryption and the skipped-key store (7, 9.2)
- device:   identity, prekeys, bundle, initiate / accept / decrypt dispatch (4, 5, 6)
- state:    canonical state blobs for sessions and devices (10)
"""
