"""Walks a challenge's lifecycle with the client generated from the server's OpenAPI document
only (challenge-server/tests/openapi.rs generates it and runs this): list the challenges, read
one, read its transcript, commit a secret claim (the commitment computed here, docs/API.md
"Claim commitment"), reveal it, read the claim's verdict. Prints one JSON line of what it saw.

usage: lifecycle.py BASE_URL CHALLENGE MESSAGE SECRET_HEX CLAIMANT
"""

import hashlib
import json
import secrets
import sys

from challenge_server_client import Client
from challenge_server_client.api.claims import claim, commit, reveal
from challenge_server_client.api.public import challenge, challenges, transcript
from challenge_server_client.models import (
    ChallengeSummary,
    ChallengeView,
    ClaimView,
    CommitRequest,
    Receipt,
    RevealRequest,
    TranscriptPage,
    VerdictView,
)


def expect(value, kind, what):
    if not isinstance(value, kind):
        sys.exit(f"{what}: expected {kind.__name__}, got {value!r}")
    return value


def main():
    base, challenge_id, message, secret, claimant = sys.argv[1:6]
    message = int(message)
    client = Client(base_url=base, raise_on_unexpected_status=True)

    listed = challenges.sync(client=client)
    ids = [expect(c, ChallengeSummary, "challenge list").id for c in listed]
    if challenge_id not in ids:
        sys.exit(f"{challenge_id} not in the list {ids}")

    view = expect(challenge.sync(challenge_id, client=client), ChallengeView, "challenge")
    page = expect(
        transcript.sync(challenge_id, client=client, from_=0, limit=100),
        TranscriptPage,
        "transcript",
    )
    if len(page.entries) <= message:
        sys.exit(f"message {message} is not published ({len(page.entries)} entries)")

    nonce = secrets.token_hex(32)
    text = (
        "challenge-server/v1/claim\n"
        f"challenge: {challenge_id}\nclaimant: {claimant}\n"
        f"kind: secret\nmessage: {message}\nsecret: {secret}\nnonce: {nonce}\n"
    )
    commitment = hashlib.sha256(text.encode()).hexdigest()
    receipt = expect(
        commit.sync(
            client=client,
            body=CommitRequest(challenge=challenge_id, claimant=claimant, commitment=commitment),
        ),
        Receipt,
        "commit",
    )
    verdict = expect(
        reveal.sync(
            receipt.claim,
            client=client,
            body=RevealRequest(kind="secret", message=message, secret=secret, nonce=nonce),
        ),
        VerdictView,
        "reveal",
    )
    read = expect(claim.sync(receipt.claim, client=client), ClaimView, "claim")
    print(
        json.dumps(
            {
                "challenges": len(ids),
                "title": view.title,
                "published_entries": view.published_entries,
                "entries": len(page.entries),
                "claim": receipt.claim,
                "log_index": receipt.log_index,
                "reveal_verdict": verdict.verdict,
                "claim_verdict": read.verdict,
            }
        )
    )


if __name__ == "__main__":
    main()
