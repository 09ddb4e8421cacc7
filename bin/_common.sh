# Shared by bin/demo and bin/test: locate Odoo, install Python dependencies,
# make sure PostgreSQL runs and accepts the current user.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PYTHON=${PYTHON:-python3}

odoo_importable() {
    "$PYTHON" -c "import odoo.release" >/dev/null 2>&1
}

odoo_addons_path() {
    local core
    core=$("$PYTHON" -c "import odoo, os; print(os.path.join(os.path.dirname(odoo.__file__), 'addons'))")
    echo "$core,$ROOT"
}

install_requirements() {
    "$PYTHON" -m pip install -q --disable-pip-version-check -r "$ROOT/requirements-test.txt"
    if ! "$PYTHON" -m pip install -q --disable-pip-version-check -r "$ROOT/requirements.txt" 2>/dev/null; then
        # An Odoo server installed from source is no pip distribution, so pip
        # cannot meet queue_job's "odoo==18.0.*": install it without deps.
        grep -v '^odoo-addon-queue[-_]job' "$ROOT/requirements.txt" \
            | "$PYTHON" -m pip install -q --disable-pip-version-check -r /dev/stdin
        "$PYTHON" -m pip install -q --disable-pip-version-check --no-deps \
            "$(grep '^odoo-addon-queue[-_]job' "$ROOT/requirements.txt")"
    fi
}

ensure_postgres() {
    if ! pg_isready -q 2>/dev/null; then
        if command -v service >/dev/null && [ "$(id -u)" = 0 ]; then
            service postgresql start >/dev/null
        fi
        for _ in $(seq 1 30); do pg_isready -q 2>/dev/null && break; sleep 1; done
    fi
    pg_isready -q || { echo "PostgreSQL is not running" >&2; return 1; }
    local me
    me=$(id -un)
    if ! psql -d postgres -tAc "select 1" >/dev/null 2>&1; then
        if [ "$(id -u)" = 0 ]; then
            su postgres -c "psql -q -c \"CREATE ROLE \\\"$me\\\" SUPERUSER LOGIN\"" >/dev/null
        else
            echo "PostgreSQL has no role for $me" >&2; return 1
        fi
    fi
}

# install_database DB DEMO(yes|no) LOGFILE: a fresh database with both addons.
install_database() {
    local db=$1 demo=$2 log=$3
    dropdb --if-exists "$db"
    local args=(-d "$db" -i amazon_refund_connector,amazon_delivery_lists
                --addons-path="$(odoo_addons_path)" --stop-after-init
                --log-level=warn --logfile="$log")
    [ "$demo" = no ] && args+=(--without-demo=all)
    "$PYTHON" -m odoo "${args[@]}" || return 1
    if grep -E " (ERROR|CRITICAL) " "$log" >/dev/null; then
        grep -E " (ERROR|CRITICAL) " "$log" | head -20 >&2
        return 1
    fi
}
