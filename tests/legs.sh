#!/usr/bin/env bash
# The legs of `make test`, in two parallel streams (the machines have two cores):
#   stream A: leg 1 (SQLite, default user model, the whole suite), then leg 4
#             (PostgreSQL: the tests whose outcome depends on the database:
#             races, locks, throttles, audit, Celery, two app servers; see
#             tests/README.md) when TEST_DATABASE_URL is set;
#   stream B: leg 2 (email-only user model) and leg 3 (UUID-keyed user model),
#             the whole suite except the `slow` statistics (fuzzing, timing),
#             which leg 1 already ran and which do not depend on the user model.
# Each leg writes .test-logs/<leg>.log; a failing leg's log tail is printed.
# Usage: tests/legs.sh <venv bin dir> [extra pytest args...]
set -uo pipefail
BIN="$1"
shift
LOGS=.test-logs
mkdir -p "$LOGS"

PG_TESTS=(tests/throttling tests/input_validation tests/integration tests/audit tests/dispatch
          tests/verification tests/timing tests/database tests/cluster tests/webauthn
          tests/app/test_concurrent_totp_logins_postgres.py
          tests/flows/test_concurrent_flow_logins_postgres.py
          tests/methods/test_authtoken_rotation_postgres.py
          tests/flows/test_decoy_phantom_rows.py tests/flows/test_decoy_state_machine.py
          tests/sms/test_concurrent_sends_postgres.py
          tests/tokens/test_token_lifetime_edges.py
          tests/yubikey/test_validation_server_outage.py)

leg() {  # leg <name> <settings module> <database url or ""> [pytest args...]
    local name="$1" settings="$2" url="$3"
    shift 3
    local started=$SECONDS status
    if [ -n "$url" ]; then
        env -u DATABASE_URL TEST_DATABASE_URL="$url" DJANGO_SETTINGS_MODULE="$settings" \
            "$BIN/pytest" "$@" >"$LOGS/$name.log" 2>&1
    else
        env -u TEST_DATABASE_URL -u DATABASE_URL DJANGO_SETTINGS_MODULE="$settings" \
            "$BIN/pytest" "$@" >"$LOGS/$name.log" 2>&1
    fi
    status=$?
    echo "=== $name: $(tail -n 1 "$LOGS/$name.log" | tr -d '=') ($((SECONDS - started)) s)"
    if [ "$status" -ne 0 ]; then
        echo "--- $name failed; the end of $LOGS/$name.log:"
        tail -n 80 "$LOGS/$name.log"
    fi
    return "$status"
}

# The Redis databases of legs 4 and 2-3 are 2 and 3 above the one REDIS_URL
# names (CI: 0, so 2 and 3): two checkouts testing at once on one machine
# keep apart by naming databases far enough apart.
REDIS_BASE="${REDIS_URL:-}"
REDIS_BASE="${REDIS_BASE##*/}"
[[ "$REDIS_BASE" =~ ^[0-9]+$ ]] || REDIS_BASE=0

stream_a() {
    leg leg1-sqlite-default testproject.settings "" "$@" || return 1
    if [ -n "${TEST_DATABASE_URL:-}" ]; then
        # Its own Redis database, so throttle keys never meet stream B's.
        REDIS_URL="${REDIS_URL:+${REDIS_URL%/*}/$((REDIS_BASE + 2))}" \
            leg leg4-postgresql testproject.settings "$TEST_DATABASE_URL" "${PG_TESTS[@]}" "$@"
    else
        echo "=== leg4-postgresql: skipped (TEST_DATABASE_URL is not set; see .ci/run)"
    fi
}

stream_b() {
    export REDIS_URL="${REDIS_URL:+${REDIS_URL%/*}/$((REDIS_BASE + 3))}"
    [ -n "$REDIS_URL" ] || unset REDIS_URL
    # The side-by-side test with django-trench configures its own sites, so the
    # user model of a leg plays no part in it: leg 1 runs it.
    leg leg2-sqlite-email-user testproject.settings_email_user "" -m "not slow and not differential" "$@" || return 1
    leg leg3-sqlite-uuid-user testproject.settings_uuid_user "" -m "not slow and not differential" "$@"
}

echo "=== make test: legs 1 and 4 next to legs 2 and 3 (logs in $LOGS/)"
stream_a "$@" &
a=$!
stream_b "$@" &
b=$!
wait "$a"; status_a=$?
wait "$b"; status_b=$?
[ "$status_a" -eq 0 ] && [ "$status_b" -eq 0 ]
