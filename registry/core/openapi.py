"""What the OpenAPI document adds to FastAPI's: shapes that routes reference by name, and
examples of pages and lists built from their item's example, so that other teams' tools (spec
validators, client generators) accept the document and every answer is shown whole."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from fastapi.routing import APIRoute
from fastapi.utils import generate_unique_id
from pydantic import BaseModel

COMPONENT_PREFIX = "#/components/schemas/"

_components: dict[str, type[BaseModel]] = {}


def operation_ids() -> Callable[[APIRoute], str]:
    """Operation ids that read as method names in a generated client (`create_member`): the
    route function's name, or FastAPI's path-derived id for a name already taken."""
    taken: set[str] = set()

    def operation_id(route: APIRoute) -> str:
        name = route.name if route.name not in taken else generate_unique_id(route)
        taken.add(name)
        return name

    return operation_id


def schema_ref(model: type[BaseModel]) -> dict[str, str]:
    """A `$ref` to `model` among the document's components, for a response or body that a
    route documents by hand (NDJSON lines, streamed bodies): an inline pydantic schema would
    carry its own `$defs`, which a reference from the document cannot reach."""
    _components.setdefault(model.__name__, model)
    return {"$ref": COMPONENT_PREFIX + model.__name__}


def add_components(schema: dict[str, Any], *models: type[BaseModel]) -> None:
    """Put `models` and every model named through `schema_ref` into the document's components,
    with the models they nest, referenced as components too."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for model in (*models, *_components.values()):
        model_schema = model.model_json_schema(ref_template=COMPONENT_PREFIX + "{model}")
        for name, definition in model_schema.pop("$defs", {}).items():
            components.setdefault(name, definition)
        components.setdefault(model.__name__, model_schema)


def restore_examples(schema: dict[str, Any]) -> None:
    """Put each model's whole examples back into its component as written: FastAPI drops every
    null from the document (`exclude_none`), examples included, and an example without its
    null fields no longer fits its own schema."""
    models: dict[str, set[type[BaseModel]]] = {}
    stack: list[type[BaseModel]] = [BaseModel]
    while stack:
        for sub in stack.pop().__subclasses__():
            stack.append(sub)
            if sub.__module__.startswith("registry."):
                models.setdefault(sub.__name__, set()).add(sub)
    for name, definition in schema.get("components", {}).get("schemas", {}).items():
        found = models.get(name, set())
        extra = next(iter(found)).model_config.get("json_schema_extra") if len(found) == 1 else None
        if isinstance(extra, dict) and "examples" in extra:
            definition["examples"] = copy.deepcopy(extra["examples"])


def example_of(schema: dict[str, Any] | None, components: dict[str, Any]) -> Any:
    """The whole-object example a schema documents: its own, its component's, or for a list
    and a page (`{data, next_cursor}`) one built from its item's; None when there is none."""
    if not schema:
        return None
    if "$ref" in schema:
        return example_of(components.get(schema["$ref"].removeprefix(COMPONENT_PREFIX)), components)
    if schema.get("examples"):
        return schema["examples"][0]
    if "example" in schema:
        return schema["example"]
    if schema.get("type") == "array":
        item = example_of(schema.get("items"), components)
        return None if item is None else [item]
    properties = schema.get("properties", {})
    if set(properties) == {"data", "next_cursor"}:
        item = example_of(properties["data"].get("items"), components)
        return None if item is None else {"data": [item], "next_cursor": None}
    return None


def add_list_examples(schema: dict[str, Any]) -> None:
    """Give pages of items an example built from the item's, so that one example per shape
    serves every list of it."""
    components = schema.get("components", {}).get("schemas", {})
    for definition in components.values():
        if "examples" not in definition and set(definition.get("properties", {})) == {"data", "next_cursor"}:
            example = example_of(definition, components)
            if example is not None:
                definition["examples"] = [example]
    for item in schema.get("paths", {}).values():
        for operation in item.values():
            for response in operation.get("responses", {}).values():
                for media in response.get("content", {}).values():
                    body = media.get("schema", {})
                    if body.get("type") == "array" and "example" not in media:
                        example = example_of(body, components)
                        if example is not None:
                            media["example"] = example
