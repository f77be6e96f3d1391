"""manifest.yml: the app's single description, loaded once and validated against its schema."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parent.parent
MANIFEST_PATH = ROOT / "manifest.yml"
SCHEMA_PATH = Path(__file__).resolve().parent / "manifest_schema.json"


class ManifestError(Exception):
    pass


@dataclass(frozen=True)
class WebhookSubscription:
    platform: str
    topic: str
    handler: str
    compliance: bool = False


@dataclass(frozen=True)
class Manifest:
    data: dict[str, Any]

    @property
    def name(self) -> str:
        return str(self.data["name"])

    @property
    def version(self) -> str:
        return str(self.data["version"])

    def platform(self, name: str) -> dict[str, Any]:
        platforms: dict[str, Any] = self.data["platforms"]
        if name not in platforms:
            raise ManifestError(f"platform {name!r} is not in manifest.yml")
        return dict(platforms[name])

    def scopes(self, platform: str) -> tuple[str, ...]:
        return tuple(self.platform(platform)["scopes"])

    def url(self, name: str) -> str:
        return str(self.data["urls"][name])

    def subscriptions(self, platform: str | None = None) -> tuple[WebhookSubscription, ...]:
        names = [platform] if platform else list(self.data["platforms"])
        return tuple(
            WebhookSubscription(
                name, entry["topic"], entry["handler"], entry.get("compliance", False)
            )
            for name in names
            for entry in self.platform(name)["webhooks"]
        )

    def handler_for(self, platform: str, topic: str) -> str | None:
        for subscription in self.subscriptions(platform):
            if subscription.topic == topic:
                return subscription.handler
        return None


def parse_manifest(text: str) -> Manifest:
    data = yaml.safe_load(text)
    schema = json.loads(SCHEMA_PATH.read_text())
    try:
        jsonschema.validate(data, schema)
    except jsonschema.ValidationError as exc:
        location = "/".join(str(part) for part in exc.absolute_path) or "(root)"
        raise ManifestError(f"manifest.yml invalid at {location}: {exc.message}") from None
    return Manifest(data)


@cache
def load_manifest(path: Path = MANIFEST_PATH) -> Manifest:
    return parse_manifest(path.read_text(encoding="utf-8"))
