import hashlib
import hmac
import time

MAX_SKEW_SECONDS = 5


def verify_paddle_signature(raw_body: bytes, header: str, secret: str) -> bool:
    parts = dict(p.split("=", 1) for p in header.split(";") if "=" in p)
    ts, received = parts.get("ts"), parts.get("h1")
    if not ts or not received:
        return False
    if abs(time.time() - int(ts)) > MAX_SKEW_SECONDS:
        return False
    signed = f"{ts}:".encode() + raw_body
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, received)
