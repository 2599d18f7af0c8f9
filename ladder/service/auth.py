"""CDS Hooks client authentication: a signed JWT bearer token (issuer, audience = the service URL,
expiry, jti), verified against a configured public key or JWKS. Replayed jti values are refused."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import jwt

ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "ES512"]
MAX_LIFETIME = 300  # seconds: CDS Hooks recommends client tokens valid for at most 5 minutes
LEEWAY = 30  # seconds of clock skew allowed on iat/nbf


class AuthError(Exception):
    """Why a request is not authenticated (sent back with the 401; never includes the token)."""


class TokenVerifier:
    def __init__(self, *, public_key: str | None = None, jwks: dict[str, Any] | None = None,
                 issuers: list[str] | None = None, max_lifetime: int = MAX_LIFETIME) -> None:
        if not public_key and not jwks:
            raise ValueError("a public key or a JWKS is needed to verify client tokens")
        self.public_key = public_key
        self.keys = {k.get("kid"): jwt.PyJWK(k) for k in (jwks or {}).get("keys", [])}
        self.issuers = issuers
        self.max_lifetime = max_lifetime
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_files(cls, public_key: Path | None, jwks: Path | None, issuers: list[str] | None) -> "TokenVerifier":
        return cls(public_key=public_key.read_text() if public_key else None,
                   jwks=json.loads(jwks.read_text()) if jwks else None, issuers=issuers)

    def verify(self, authorization: str | None, audience: str) -> dict[str, Any]:
        if not authorization or not authorization.lower().startswith("bearer "):
            raise AuthError("a bearer token is required (Authorization: Bearer <JWT>)")
        token = authorization.split(None, 1)[1].strip()
        try:
            key = self._key(token)
            claims = jwt.decode(token, key, algorithms=ALGORITHMS, audience=audience,
                                issuer=self.issuers, options={"require": ["iss", "aud", "exp", "jti"]})
        except jwt.PyJWTError as error:
            raise AuthError(f"invalid token: {error}") from None
        except (TypeError, ValueError, OverflowError):  # claims of odd types PyJWT does not judge
            raise AuthError("invalid token: malformed claims") from None
        self._bounded(claims)
        self._once(claims["jti"], claims["exp"])
        return claims

    def _bounded(self, claims: dict[str, Any]) -> None:
        """A numeric exp at most `max_lifetime` ahead (of now, and of iat when given) and a non-empty
        string jti: a token valid for centuries, or with an empty jti, defeats replay protection."""
        exp, iat, jti = claims.get("exp"), claims.get("iat"), claims.get("jti")
        if isinstance(exp, bool) or not isinstance(exp, (int, float)):
            raise AuthError("invalid token: exp must be a number (seconds since the epoch)")
        if exp - time.time() > self.max_lifetime + LEEWAY:
            raise AuthError(f"invalid token: valid for longer than {self.max_lifetime} s")
        if iat is not None and (isinstance(iat, bool) or not isinstance(iat, (int, float))
                                or exp - iat > self.max_lifetime):
            raise AuthError(f"invalid token: iat missing a number or lifetime over {self.max_lifetime} s")
        if not isinstance(jti, str) or not jti.strip():
            raise AuthError("invalid token: jti must be a non-empty string")

    def _key(self, token: str) -> Any:
        if not self.keys:
            return self.public_key
        kid = jwt.get_unverified_header(token).get("kid")
        if kid not in self.keys:
            raise AuthError("the token's kid is not in the configured JWKS")
        return self.keys[kid].key

    def _once(self, jti: str, expires: float) -> None:
        now = time.time()
        with self._lock:
            self._seen = {k: v for k, v in self._seen.items() if v > now}
            if jti in self._seen:
                raise AuthError("token replayed (jti already used)")
            self._seen[jti] = float(expires)
