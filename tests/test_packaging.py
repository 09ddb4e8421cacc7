"""Build the addons and the metapackage as wheels and check what they contain.

No Odoo is needed: whool reads the manifests, and pip drives the builds
offline (``--no-index --no-build-isolation``) with the whool and setuptools
installed in the current environment.

whool ships the files under git control and derives a post-version from the
git history, so the addons are first staged into a throw-away git repository
holding a single commit. That keeps the outcome independent from the state of
the working copy (no commits yet, untracked or modified files).
"""

import ast
import os
import re
import shutil
import subprocess
import sys
import zipfile
from email.parser import HeaderParser
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

REPO = Path(__file__).resolve().parent.parent
METAPACKAGE_DIR = REPO / "setup" / "_metapackage"
METAPACKAGE_NAME = "odoo-addons-amazon-connector"
CONNECTOR = "amazon_refund_connector"
DELIVERY_LISTS = "amazon_delivery_lists"
ADDONS = (CONNECTOR, DELIVERY_LISTS)
ODOO_REQUIREMENT = "odoo==18.0.*"
VERSION_RE = re.compile(r"^18\.0\.\d+\.\d+\.\d+$")
SKIPPED_PARTS = {"__pycache__", ".pytest_cache", "build", "dist"}


def _clean_env():
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        {
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_TERMINAL_PROMPT": "0",
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            "PIP_NO_INPUT": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
            "WHOOL_POST_VERSION_STRATEGY_OVERRIDE": "none",
        }
    )
    return env


def _run(cmd, cwd, check=True):
    result = subprocess.run(
        cmd,
        cwd=cwd,
        env=_clean_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    if check:
        assert result.returncode == 0, (
            f"{' '.join(map(str, cmd))} failed ({result.returncode})\n"
            f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
        )
    return result


def _git(*args, cwd, check=True):
    return _run(["git", *args], cwd, check=check)


def _manifest(addon):
    return ast.literal_eval((REPO / addon / "__manifest__.py").read_text())


def _is_shipped(rel_path):
    parts = Path(rel_path).parts
    return not (SKIPPED_PARTS.intersection(parts) or rel_path.endswith(".pyc"))


def _source_files(addon):
    """Files of ``addon`` that a commit of the working copy would hold."""
    addon_dir = REPO / addon
    listing = _git(
        "ls-files",
        "-z",
        "--cached",
        "--others",
        "--exclude-standard",
        "--",
        ".",
        cwd=addon_dir,
        check=False,
    )
    if listing.returncode == 0:
        listed = listing.stdout.split("\0")
    else:  # not a git checkout, e.g. an unpacked source archive
        listed = [
            p.relative_to(addon_dir).as_posix()
            for p in addon_dir.rglob("*")
            if p.is_file()
        ]
    return sorted(
        rel
        for rel in listed
        if rel and _is_shipped(rel) and (addon_dir / rel).is_file()
    )


def _pip_wheel(project_dir, wheel_dir):
    before = set(wheel_dir.glob("*.whl"))
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-index",
            "--no-build-isolation",
            "--wheel-dir",
            str(wheel_dir),
            str(project_dir),
        ],
        cwd=wheel_dir,
    )
    built = set(wheel_dir.glob("*.whl")) - before
    assert len(built) == 1, f"expected one new wheel, got {sorted(built)}"
    return built.pop()


def _metadata(wheel_path):
    with zipfile.ZipFile(wheel_path) as zf:
        names = [n for n in zf.namelist() if n.endswith(".dist-info/METADATA")]
        assert len(names) == 1, names
        return HeaderParser().parsestr(zf.read(names[0]).decode("utf-8"))


def _members(wheel_path):
    with zipfile.ZipFile(wheel_path) as zf:
        return set(zf.namelist())


@pytest.fixture(scope="session", autouse=True)
def load_registry():
    """Shadow pytest-odoo's registry loading: these tests need no database."""
    yield


@pytest.fixture(scope="module", autouse=True)
def enable_odoo_test_flag():
    """Shadow pytest-odoo's test flag toggling: no Odoo code runs here."""
    yield


@pytest.fixture(scope="module")
def staged_files():
    return {addon: _source_files(addon) for addon in ADDONS}


@pytest.fixture(scope="module")
def addon_wheels(tmp_path_factory, staged_files):
    """Stage the addons in a committed git repository and build their wheels."""
    stage = tmp_path_factory.mktemp("stage")
    for addon, files in staged_files.items():
        for rel in files:
            dst = stage / addon / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / addon / rel, dst)
    _git("init", "-q", cwd=stage)
    _git("add", "-A", cwd=stage)
    _git(
        "-c",
        "user.name=Packaging Test",
        "-c",
        "user.email=packaging-test@example.invalid",
        "-c",
        "commit.gpgsign=false",
        "commit",
        "-q",
        "--no-verify",
        "-m",
        "Stage addons for packaging test",
        cwd=stage,
    )
    wheel_dir = tmp_path_factory.mktemp("wheels")
    return {addon: _pip_wheel(stage / addon, wheel_dir) for addon in ADDONS}


@pytest.fixture(scope="module")
def metapackage_wheel(tmp_path_factory):
    """Build the metapackage from a copy, so setuptools leaves no build dirs."""
    src = tmp_path_factory.mktemp("meta") / "_metapackage"
    shutil.copytree(METAPACKAGE_DIR, src)
    return _pip_wheel(src, tmp_path_factory.mktemp("meta_wheels"))


@pytest.mark.parametrize("addon", ADDONS)
def test_addon_has_whool_pyproject(addon):
    with open(REPO / addon / "pyproject.toml", "rb") as f:
        build_system = tomllib.load(f)["build-system"]
    assert build_system["build-backend"] == "whool.buildapi"
    assert build_system["requires"] == ["whool"]


@pytest.mark.parametrize("addon", ADDONS)
def test_wheel_name_and_version(addon, addon_wheels):
    version = _manifest(addon)["version"]
    assert VERSION_RE.match(version), version
    wheel = addon_wheels[addon]
    assert wheel.name == f"odoo_addon_{addon}-{version}-py3-none-any.whl"
    meta = _metadata(wheel)
    assert meta["Name"] == f"odoo-addon-{addon}"
    assert meta["Version"] == version
    assert meta["Requires-Python"] == ">=3.10"
    assert "Framework :: Odoo :: 18.0" in meta.get_all("Classifier")


@pytest.mark.parametrize("addon", ADDONS)
def test_wheel_ships_addon_files(addon, addon_wheels, staged_files):
    members = _members(addon_wheels[addon])
    prefix = f"odoo/addons/{addon}/"
    assert f"{prefix}__manifest__.py" in members
    assert f"{prefix}__init__.py" in members
    python_files = [rel for rel in staged_files[addon] if rel.endswith(".py")]
    missing = [rel for rel in python_files if prefix + rel not in members]
    assert not missing, f"python files missing from the wheel: {missing}"
    manifest = _manifest(addon)
    declared = manifest.get("data", []) + manifest.get("demo", [])
    missing = [rel for rel in declared if prefix + rel not in members]
    assert not missing, f"manifest data files missing from the wheel: {missing}"
    assert f"{prefix}pyproject.toml" not in members
    assert not any(m.endswith(".pyc") or "/__pycache__/" in m for m in members)
    assert "odoo/__init__.py" not in members
    assert "odoo/addons/__init__.py" not in members
    outside = [m for m in members if not (m.startswith(prefix) or ".dist-info/" in m)]
    assert not outside, outside


def test_connector_wheel_ships_sp_api(addon_wheels):
    members = _members(addon_wheels[CONNECTOR])
    sp_api = f"odoo/addons/{CONNECTOR}/sp_api/"
    assert f"{sp_api}__init__.py" in members
    assert f"{sp_api}client.py" in members
    source = sorted((REPO / CONNECTOR / "sp_api").glob("*.py"))
    assert source
    missing = [p.name for p in source if sp_api + p.name not in members]
    assert not missing, missing


def test_connector_requirements(addon_wheels):
    requires = _metadata(addon_wheels[CONNECTOR]).get_all("Requires-Dist")
    assert ODOO_REQUIREMENT in requires
    assert "odoo-addon-queue_job==18.0.*" in requires
    assert "python-amazon-sp-api" in requires
    # Odoo core addons are covered by the dependency on odoo itself.
    assert not [r for r in requires if r.startswith("odoo-addon-sale")]
    assert not [r for r in requires if r.startswith("odoo-addon-mail")]


def test_connector_requirements_follow_manifest(addon_wheels):
    manifest = _manifest(CONNECTOR)
    names = {
        canonicalize_name(Requirement(r).name)
        for r in _metadata(addon_wheels[CONNECTOR]).get_all("Requires-Dist")
    }
    for dep in manifest["external_dependencies"]["python"]:
        assert canonicalize_name(dep) in names


def test_delivery_lists_requirements(addon_wheels):
    requires = _metadata(addon_wheels[DELIVERY_LISTS]).get_all("Requires-Dist")
    assert ODOO_REQUIREMENT in requires
    assert f"odoo-addon-{CONNECTOR}==18.0.*" in requires
    connector = _metadata(addon_wheels[CONNECTOR])
    requirement = Requirement(f"odoo-addon-{CONNECTOR}==18.0.*")
    assert Version(connector["Version"]) in requirement.specifier


def _installable_addons():
    found = []
    for manifest_path in sorted(REPO.glob("*/__manifest__.py")):
        manifest = ast.literal_eval(manifest_path.read_text())
        if manifest.get("installable", True):
            found.append(manifest_path.parent.name)
    return found


def test_metapackage_builds(metapackage_wheel):
    meta = _metadata(metapackage_wheel)
    assert meta["Name"] == METAPACKAGE_NAME
    assert re.match(r"^18\.0\.\d{8}\.\d+$", meta["Version"]), meta["Version"]
    assert metapackage_wheel.name == (
        f"odoo_addons_amazon_connector-{meta['Version']}-py3-none-any.whl"
    )
    code = [m for m in _members(metapackage_wheel) if ".dist-info/" not in m]
    assert not code, code
    expected = sorted(f"odoo-addon-{addon}==18.0.*" for addon in _installable_addons())
    assert set(ADDONS) <= set(_installable_addons())
    with open(METAPACKAGE_DIR / "pyproject.toml", "rb") as f:
        assert sorted(tomllib.load(f)["project"]["dependencies"]) == expected
    # setuptools writes the names normalised, so compare them canonically.
    requires = sorted(
        (canonicalize_name(req.name), str(req.specifier))
        for req in map(Requirement, meta.get_all("Requires-Dist"))
    )
    assert requires == sorted(
        (canonicalize_name(req.name), str(req.specifier))
        for req in map(Requirement, expected)
    )


def test_metapackage_accepts_built_addons(metapackage_wheel, addon_wheels):
    requirements = {
        canonicalize_name(req.name): req
        for req in map(
            Requirement, _metadata(metapackage_wheel).get_all("Requires-Dist")
        )
    }
    for wheel in addon_wheels.values():
        meta = _metadata(wheel)
        req = requirements[canonicalize_name(meta["Name"])]
        assert Version(meta["Version"]) in req.specifier
