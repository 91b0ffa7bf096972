"""``deploy/template.yaml``: found, read with CloudFormation's short tags, sent as JSON.

The YAML is read by cfn-flip's loader (AWS's own, maintained with the CloudFormation
tools): ``!Ref x`` becomes ``{"Ref": "x"}``, ``!Sub ...`` ``{"Fn::Sub": ...}``, ``!GetAtt
a.b`` ``{"Fn::GetAtt": ["a", "b"]}``, the long form CloudFormation accepts as JSON. The
body we send is compact, key-sorted JSON, so an unchanged template is recognised byte for
byte and a redeploy is a no-op.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from wavekit.errors import MissingExtraError

TEMPLATE_NAME = "template.yaml"


def template_path() -> Path:
    """``deploy/template.yaml`` of the source tree, or the copy inside the wheel."""
    source = Path(__file__).resolve().parents[2] / "deploy" / TEMPLATE_NAME
    if source.is_file():
        return source
    return Path(str(resources.files("wavekit") / "deploy_files" / TEMPLATE_NAME))


def _plain(node: Any) -> Any:
    """cfn-flip's ordered ``ODict`` as plain dicts and lists.

    ``ODict.items()`` keeps insertion order even under ``sorted`` (it exists to stop
    YAML dumpers from sorting), which would defeat ``json.dumps(sort_keys=True)`` and
    make the body depend on the YAML's key order.
    """
    if isinstance(node, dict):
        return {key: _plain(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_plain(value) for value in node]
    return node


def load_template(path: Path | None = None) -> dict[str, Any]:
    """The template as a dict, intrinsic functions in their long (``Fn::``) form."""
    try:
        import cfn_flip
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise MissingExtraError("cfn-flip", "aws") from exc

    loaded: dict[str, Any] = _plain(cfn_flip.load_yaml((path or template_path()).read_text()))
    return loaded


def template_json(path: Path | None = None) -> str:
    """Compact, key-sorted JSON of the template: the body sent to CloudFormation."""
    return json.dumps(load_template(path), sort_keys=True, separators=(",", ":"))
