"""Who may see what: bearer JWTs as HMPPS Auth issues them (roles in `authorities`), verified
against a configured public key or JWKS file. One role grants the custodial audience; a separate
role grants the healthcare audience (and, with it, the custodial one). A healthcare request from a
token without the healthcare role is refused, never downgraded."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt

from service.errors import ApiError

ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256"]
CACHE_SIZE = 2048


@dataclass(frozen=True)
class Roles:
    """The role names that grant each kind of access (HMPPS style, `ROLE_` prefixed)."""

    custodial: str = "ROLE_REGIME_DECISIONS"
    healthcare: str = "ROLE_REGIME_HEALTHCARE_DECISIONS"
    admin: str = "ROLE_REGIME_ADMIN"


@dataclass(frozen=True)
class Caller:
    """The verified caller: who (for the log) and what roles."""

    client_id: str | None
    user_name: str | None
    roles: frozenset[str] = field(default_factory=frozenset)


ANONYMOUS = "anonymous (authentication off)"


class KeyConfigError(ValueError):
    """The public key or JWKS file cannot be read."""


class Authenticator:
    """Verifies tokens and checks roles. With `enabled=False` every caller has every role."""

    def __init__(
        self,
        enabled: bool,
        roles: Roles,
        public_key_file: Path | None = None,
        jwks_file: Path | None = None,
        issuer: str | None = None,
        audience: str | None = None,
    ):
        self.enabled = enabled
        self.roles = roles
        self.issuer = issuer or None  # when set, a token's `iss` must equal it
        self.audience = audience or None  # when set, a token's `aud` must name it
        self._keys: dict[str | None, Any] = {}
        self._cache: dict[str, tuple[float, Caller]] = {}
        if not enabled:
            return
        if public_key_file is None and jwks_file is None:
            raise KeyConfigError(
                "no key to verify tokens: pass --jwt-public-key FILE or --jwks FILE "
                "(or --insecure-no-auth to run without authentication)"
            )
        for given in (public_key_file, jwks_file):  # a pipe or a device might never end
            if given is not None and given.exists() and not given.is_file():
                raise KeyConfigError(
                    f"cannot read the token verification key: `{given}` is not a regular file"
                )
        try:
            if public_key_file is not None:
                from cryptography.hazmat.primitives.serialization import load_pem_public_key

                self._keys[None] = load_pem_public_key(public_key_file.read_bytes())
            if jwks_file is not None:
                jwks = jwt.PyJWKSet.from_dict(json.loads(jwks_file.read_text(encoding="utf-8")))
                for k in jwks.keys:
                    self._keys[k.key_id] = k.key
        except (OSError, ValueError, jwt.PyJWKSetError, jwt.PyJWKError) as e:
            raise KeyConfigError(f"cannot read the token verification key: {e}") from e

    def caller(self, authorization: str | None) -> Caller:
        """The caller behind an `Authorization` header; 401 when there is none or it fails."""
        if not self.enabled:
            return Caller(None, ANONYMOUS, frozenset(vars(self.roles).values()))
        if not authorization or not authorization.lower().startswith("bearer "):
            raise ApiError(
                401,
                "E-HTTP-UNAUTHENTICATED",
                "Authentication required: send a bearer token",
                "no `Authorization: Bearer <jwt>` header",
            )
        token = authorization[7:].strip()
        cached = self._cache.get(token)
        if cached is not None and cached[0] > time.time():
            return cached[1]
        claims = self._verify(token)
        caller = Caller(
            client_id=_str(claims.get("client_id") or claims.get("azp")),
            user_name=_str(claims.get("user_name") or claims.get("sub")),
            roles=frozenset(str(r) for r in claims.get("authorities") or () if isinstance(r, str)),
        )
        if len(self._cache) >= CACHE_SIZE:
            self._cache.clear()
        self._cache[token] = (float(claims["exp"]), caller)
        return caller

    def _verify(self, token: str) -> Mapping[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
            key = self._keys.get(header.get("kid"))
            if key is None:
                key = self._keys.get(None) or (
                    next(iter(self._keys.values())) if len(self._keys) == 1 else None
                )
            if key is None:
                raise jwt.InvalidTokenError(f"no key with id `{header.get('kid')}`")
            required = (
                ["exp"] + (["iss"] if self.issuer else []) + (["aud"] if self.audience else [])
            )
            claims: Mapping[str, Any] = jwt.decode(
                token,
                key,
                algorithms=ALGORITHMS,
                issuer=self.issuer,
                audience=self.audience,
                options={"require": required, "verify_aud": self.audience is not None},
            )
            return claims
        except jwt.ExpiredSignatureError as e:
            raise ApiError(
                401, "E-HTTP-UNAUTHENTICATED", "The token has expired: get a new one", str(e)
            ) from e
        except jwt.InvalidTokenError as e:
            raise ApiError(
                401, "E-HTTP-UNAUTHENTICATED", "The token is not valid", f"token rejected: {e}"
            ) from e

    def require_audience(self, caller: Caller, audience: str) -> None:
        """403 unless the caller may receive decisions for `audience`."""
        if audience == "healthcare":
            if self.roles.healthcare not in caller.roles:
                raise _forbidden(
                    "This token may not receive healthcare decisions",
                    f"the healthcare audience needs the role {self.roles.healthcare}",
                )
            return
        if not caller.roles & {self.roles.custodial, self.roles.healthcare}:
            raise _forbidden(
                "This token may not request decisions",
                f"decisions need the role {self.roles.custodial} (or {self.roles.healthcare})",
            )

    def require_reader(self, caller: Caller) -> None:
        """403 unless the caller has any of the service's roles (to list packs)."""
        if not caller.roles & set(vars(self.roles).values()):
            raise _forbidden(
                "This token has none of the service's roles",
                f"one of {', '.join(sorted(vars(self.roles).values()))} is needed",
            )

    def require_admin(self, caller: Caller) -> None:
        if self.roles.admin not in caller.roles:
            raise _forbidden(
                "This token may not administer the service",
                f"reloading packs needs the role {self.roles.admin}",
            )


def _forbidden(user_message: str, developer_message: str) -> ApiError:
    """A 403 answer: the token's roles do not allow the request."""
    return ApiError(403, "E-HTTP-FORBIDDEN", user_message, developer_message)


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


# --- development keys and tokens (`regime dev-token`) -------------------------------------------

DEV_KID = "regime-dev"


def ensure_dev_keys(directory: Path) -> tuple[Path, Path, Path]:
    """An RSA key pair for development in `directory` (made once): private, public PEM, JWKS."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    directory.mkdir(parents=True, exist_ok=True)
    private, public, jwks = (
        directory / "private.pem",
        directory / "public.pem",
        directory / "jwks.json",
    )
    if not private.exists():
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        private.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        private.chmod(0o600)
        public.write_bytes(
            key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
        jwk.update({"kid": DEV_KID, "use": "sig", "alg": "RS256"})
        jwks.write_text(json.dumps({"keys": [jwk]}, indent=2) + "\n", encoding="utf-8")
    return private, public, jwks


def mint_token(
    private_key_pem: Any,
    roles: list[str],
    user_name: str | None = "dev.user",
    client_id: str = "regime-dev-client",
    minutes: float = 60,
    kid: str | None = DEV_KID,
    now: float | None = None,
    issuer: str = "regime-dev",
    audience: str | list[str] | None = None,
) -> str:
    """A token shaped like HMPPS Auth's (authorities, client_id, user_name), signed RS256 with a
    PEM private key (bytes) or a loaded one."""
    issued = int(now if now is not None else time.time())
    claims: dict[str, Any] = {
        "sub": user_name or client_id,
        "client_id": client_id,
        "authorities": roles,
        "iat": issued,
        "exp": issued + int(minutes * 60),
        "iss": issuer,
        "grant_type": "client_credentials" if user_name is None else "authorization_code",
    }
    if user_name is not None:
        claims["user_name"] = user_name
    if audience is not None:
        claims["aud"] = audience
    headers = {"kid": kid} if kid else None
    return jwt.encode(claims, private_key_pem, algorithm="RS256", headers=headers)
