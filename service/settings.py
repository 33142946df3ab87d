"""The service's settings, as `regime serve` options give them (plain data: workers get a copy)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from service.auth import Roles


@dataclass(frozen=True)
class Settings:
    packs_dir: Path = Path("policies")
    database_url: str = "sqlite:///decisions.db"
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 1
    auth_enabled: bool = True
    public_key_file: Path | None = None
    jwks_file: Path | None = None
    jwt_issuer: str | None = None  # tokens must carry this `iss` (HMPPS Auth's issuer URL)
    jwt_audience: str | None = None  # tokens must carry this `aud`
    roles: Roles = field(default_factory=Roles)
    max_body_bytes: int = 1_048_576  # one decision request, or one batch line
    batch_window: int = 64  # batch lines in flight (evaluated, awaiting the log) at once
