"""Deploy wavekit to AWS with CloudFormation (``deploy/template.yaml``).

The template is read with CloudFormation's short tags (``!Ref``, ``!Sub`` ...) in their
long JSON forms, so Python (deploy, tests) sees what CloudFormation sees, and it is sent
as compact JSON.
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
    source = Path(__file__).resolve().parents[1] / "deploy" / TEMPLATE_NAME
    if source.is_file():
        return source
    return Path(str(resources.files("wavekit") / "deploy_files" / TEMPLATE_NAME))


def _loader() -> Any:
    try:
        import yaml
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise MissingExtraError("pyyaml", "aws") from exc

    loader: Any = type("CfnLoader", (yaml.SafeLoader,), {})

    def construct(loader: Any, suffix: str, node: Any) -> Any:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        if suffix == "Ref":
            return {"Ref": value}
        if suffix == "Condition":
            return {"Condition": value}
        if suffix == "GetAtt" and isinstance(value, str):
            return {"Fn::GetAtt": value.split(".", 1)}
        return {f"Fn::{suffix}": value}

    loader.add_multi_constructor("!", construct)
    return loader


def load_template(path: Path | None = None) -> dict[str, Any]:
    """The template as a dict, intrinsic functions in their ``Fn::`` form."""
    import yaml

    text = (path or template_path()).read_text()
    loaded: dict[str, Any] = yaml.load(text, Loader=_loader())  # a SafeLoader subclass
    return loaded


def template_json(path: Path | None = None) -> str:
    """Compact, key-sorted JSON of the template: the body sent to CloudFormation, stable
    byte for byte, so an unchanged template is recognised as such."""
    return json.dumps(load_template(path), sort_keys=True, separators=(",", ":"))
