"""Derive the JSON schemas in this folder from Amazon's SP-API models.

    python3 tests/schemas/generate.py MODELS_DIR
    python3 tests/schemas/generate.py --check MODELS_DIR

MODELS_DIR holds Amazon's OpenAPI (swagger 2.0) model files: the ``models``
folder of a clone of github.com/amzn/selling-partner-api-models, where each
file sits in a sub-folder of its own, or a flat folder of the same files. It
defaults to the AMAZON_MODELS_DIR environment variable. The commit of the
models is read from a SOURCE file in that folder, from git, or from
``--commit``.

What is kept is what a validator needs: operations and their parameters,
response schemas and headers, definitions with their types, formats, enums,
required properties and limits, and internal ``#/definitions/...`` references.
Descriptions, titles, examples, sandbox cases and documentation extensions are
dropped. The usage plan an operation's description gives (rate and burst) is
kept as ``x-usage-plan``. Only the definitions the kept operations reach are
written.

``--check`` writes nothing and exits 1 when a file here differs from what the
models give, e.g. after a model update.
"""

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
UPSTREAM = "github.com/amzn/selling-partner-api-models"

# Model file: the operations kept (None: every operation of the model).
MODELS = {
    "orders_2026-01-01.json": None,
    "ordersV0.json": ("confirmShipment",),
    "sellers.json": None,
    "feeds_2021-06-30.json": None,
    "finances_2024-06-19.json": None,
    "reports_2021-06-30.json": None,
}

METHODS = ("get", "put", "post", "delete", "options", "head", "patch")
SCHEMA_KEYS = {
    "$ref",
    "type",
    "format",
    "enum",
    "required",
    "properties",
    "items",
    "additionalProperties",
    "allOf",
    "default",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minLength",
    "maxLength",
    "pattern",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minProperties",
    "maxProperties",
    "readOnly",
    "discriminator",
}
PARAMETER_KEYS = {
    "name",
    "in",
    "required",
    "schema",
    "type",
    "format",
    "items",
    "collectionFormat",
    "enum",
    "default",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minLength",
    "maxLength",
    "pattern",
    "minItems",
    "maxItems",
    "uniqueItems",
    "allowEmptyValue",
}
HEADER_KEYS = {"type", "format", "items", "collectionFormat", "enum"}
OPERATION_KEYS = {"operationId", "deprecated", "consumes", "produces"}
# Prose and samples; every "x-" extension is dropped as well.
DROPPED = {"description", "summary", "title", "example", "examples", "tags"}
USAGE_PLAN = re.compile(r"\|\s*([0-9]+(?:\.[0-9]+)?)\s*\|\s*([0-9]+)\s*\|")
COMMIT = re.compile(r"\b[0-9a-f]{40}\b")


class ModelError(ValueError):
    pass


def _keep(mapping, allowed, where):
    """The allowed keys of ``mapping``; an unknown key that is neither prose
    nor an extension is an error, so that a new keyword is not lost unseen."""
    kept = {}
    for key, value in mapping.items():
        if key in allowed:
            kept[key] = value
        elif key not in DROPPED and not key.startswith("x-"):
            raise ModelError(f"{where}: unexpected key {key!r}")
    return kept


def schema(node, where):
    """A schema object without its annotations; nested schemas alike."""
    if not isinstance(node, dict):
        raise ModelError(f"{where}: a schema must be an object")
    if "$ref" in node:
        # Swagger 2.0 ignores the siblings of a reference.
        return {"$ref": node["$ref"]}
    kept = _keep(node, SCHEMA_KEYS, where)
    if "properties" in kept:
        kept["properties"] = {
            name: schema(child, f"{where}.{name}")
            for name, child in kept["properties"].items()
        }
    if isinstance(kept.get("items"), dict):
        kept["items"] = schema(kept["items"], f"{where}[]")
    if isinstance(kept.get("additionalProperties"), dict):
        kept["additionalProperties"] = schema(
            kept["additionalProperties"], f"{where}{{}}"
        )
    if "allOf" in kept:
        kept["allOf"] = [
            schema(part, f"{where}.allOf[{index}]")
            for index, part in enumerate(kept["allOf"])
        ]
    return kept


def parameter(node, where):
    kept = _keep(node, PARAMETER_KEYS, where)
    if "schema" in kept:
        kept["schema"] = schema(kept["schema"], f"{where}.schema")
    if "items" in kept:
        kept["items"] = _keep(kept["items"], PARAMETER_KEYS - {"name", "in"}, where)
    return kept


def response(node, where):
    kept = {}
    if "schema" in node:
        kept["schema"] = schema(node["schema"], f"{where}.schema")
    if node.get("headers"):
        kept["headers"] = {
            name: _keep(header, HEADER_KEYS, f"{where}.headers.{name}")
            for name, header in node["headers"].items()
        }
    _keep(node, {"schema", "headers"}, where)
    return kept


def usage_plan(description):
    """Rate and burst of the usage plan table in an operation's description."""
    found = USAGE_PLAN.search(description or "")
    if found is None:
        return None
    return {"rate": float(found.group(1)), "burst": int(found.group(2))}


def operation(node, where):
    kept = _keep(node, OPERATION_KEYS | {"parameters", "responses"}, where)
    plan = usage_plan(node.get("description"))
    if plan is not None:
        kept["x-usage-plan"] = plan
    if "parameters" in kept:
        kept["parameters"] = [
            parameter(item, f"{where}.parameters[{item.get('name')}]")
            for item in kept["parameters"]
        ]
    kept["responses"] = {
        status: response(answer, f"{where}.responses.{status}")
        for status, answer in node["responses"].items()
    }
    return kept


def references(node):
    """Names of the definitions ``node`` refers to directly."""
    found = set()
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            ref = item.get("$ref")
            if isinstance(ref, str):
                if not ref.startswith("#/definitions/"):
                    raise ModelError(f"reference {ref!r} leaves the model")
                found.add(ref[len("#/definitions/") :])
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def derive(name, model, operation_ids=None, commit=None):
    """The schema document written for the model file ``name``."""
    paths = {}
    seen = set()
    for path, item in model["paths"].items():
        _keep(item, {*METHODS, "parameters"}, f"{name}:{path}")
        kept = {}
        for method in METHODS:
            node = item.get(method)
            if node is None:
                continue
            if operation_ids is not None and node["operationId"] not in operation_ids:
                continue
            seen.add(node["operationId"])
            kept[method] = operation(node, f"{name}:{method.upper()} {path}")
        if kept and item.get("parameters"):
            kept["parameters"] = [
                parameter(p, f"{name}:{path}.parameters") for p in item["parameters"]
            ]
        if kept:
            paths[path] = kept
    missing = set(operation_ids or ()) - seen
    if missing:
        raise ModelError(f"{name}: no operation {', '.join(sorted(missing))}")

    definitions = model.get("definitions", {})
    reached = set()
    pending = references(paths)
    while pending:
        ref = pending.pop()
        if ref in reached:
            continue
        if ref not in definitions:
            raise ModelError(f"{name}: #/definitions/{ref} is not defined")
        reached.add(ref)
        pending |= references(definitions[ref])

    notice = (
        f"Derived from {name} of Amazon's SP-API models ({UPSTREAM}"
        + (f", commit {commit}" if commit else "")
        + "), Apache License 2.0 (LICENSE in this folder), by generate.py: "
        "descriptions and examples removed, usage plans kept as x-usage-plan, "
        "definitions limited to those the operations use. Do not edit."
    )
    document = {"x-notice": notice, "swagger": model["swagger"]}
    document["info"] = {"version": model["info"]["version"]}
    for key in ("basePath", "consumes", "produces"):
        if key in model:
            document[key] = model[key]
    document["paths"] = paths
    document["definitions"] = {
        ref: schema(definitions[ref], f"{name}:#/definitions/{ref}")
        for ref in definitions
        if ref in reached
    }
    return document


def find_model(models_dir, name):
    """``name`` in ``models_dir`` itself or, as in Amazon's repository, in one
    of its sub-folders."""
    direct = models_dir / name
    if direct.is_file():
        return direct
    found = sorted(models_dir.glob(f"*/{name}"))
    if len(found) != 1:
        raise ModelError(
            f"{name}: {'several copies' if found else 'not found'} in {models_dir}"
        )
    return found[0]


def source_commit(models_dir):
    source = models_dir / "SOURCE"
    if source.is_file():
        found = COMMIT.search(source.read_text(encoding="utf-8"))
        if found:
            return found.group(0)
    try:
        result = subprocess.run(
            ["git", "-C", str(models_dir), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    found = COMMIT.search(result.stdout)
    return found.group(0) if found else None


def find_license(models_dir):
    for folder in (models_dir, models_dir.parent):
        if (folder / "LICENSE").is_file():
            return folder / "LICENSE"
    raise ModelError(f"no LICENSE in {models_dir} or its parent folder")


def readme(commit):
    files = "\n".join(f"  {name}" for name in MODELS)
    return f"""\
JSON schemas of the SP-API operations the connector and its sandbox use.

Source: Amazon's SP-API models ({UPSTREAM},
commit {commit}), published by Amazon under the
Apache License 2.0; LICENSE in this folder is that license. The files here are
derived from those models: they keep the structure (operations, parameters,
response schemas and headers, definitions, types, formats, enums, required
properties, internal $refs) and leave out descriptions, examples and sandbox
cases; the usage plan of each operation (rate and burst) is kept as
"x-usage-plan", and only the definitions the kept operations use are written.

One file per Amazon model:
{files}

Regenerate them from a clone of Amazon's repository at that commit:

  python3 tests/schemas/generate.py /path/to/selling-partner-api-models/models

Check that they match the models (exit status 1 when they do not):

  python3 tests/schemas/generate.py --check /path/to/selling-partner-api-models/models

generate.py writes every file of this folder but itself; do not edit them.
"""


def render(document):
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def outputs(models_dir, commit=None):
    """{file name: text} of everything this folder holds besides the script."""
    commit = commit or source_commit(models_dir)
    if not commit:
        raise ModelError(
            f"the commit of {models_dir} is unknown: give --commit or a SOURCE file"
        )
    files = {}
    for name, operation_ids in MODELS.items():
        model = json.loads(find_model(models_dir, name).read_text(encoding="utf-8"))
        files[name] = render(derive(name, model, operation_ids, commit))
    files["LICENSE"] = find_license(models_dir).read_text(encoding="utf-8")
    files["README"] = readme(commit)
    return files


def stale(files, folder=HERE):
    """Names of the files in ``folder`` that differ from ``files`` or that no
    model gives any more."""
    differing = [
        name
        for name, text in files.items()
        if not (folder / name).is_file()
        or (folder / name).read_text(encoding="utf-8") != text
    ]
    extra = [path.name for path in folder.glob("*.json") if path.name not in files]
    return sorted(differing + extra)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "models_dir",
        nargs="?",
        default=os.environ.get("AMAZON_MODELS_DIR"),
        help="folder of Amazon's model files (default: $AMAZON_MODELS_DIR)",
    )
    parser.add_argument("--commit", help="commit of the models, if not found")
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 when the files here are not up to date",
    )
    args = parser.parse_args(argv)
    if not args.models_dir:
        parser.error("give the models folder (or set AMAZON_MODELS_DIR)")
    models_dir = Path(args.models_dir).resolve()
    try:
        files = outputs(models_dir, args.commit)
    except (OSError, ValueError) as error:
        print(f"generate.py: {error}", file=sys.stderr)
        return 2
    if args.check:
        differing = stale(files)
        for name in differing:
            print(f"out of date: tests/schemas/{name}", file=sys.stderr)
        if differing:
            print(
                f"regenerate: python3 tests/schemas/generate.py {models_dir}",
                file=sys.stderr,
            )
            return 1
        print(f"tests/schemas: {len(files)} files match {models_dir}")
        return 0
    for name, text in files.items():
        (HERE / name).write_text(text, encoding="utf-8")
    for name in stale(files):
        (HERE / name).unlink()
    print(f"tests/schemas: {len(files)} files written from {models_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
