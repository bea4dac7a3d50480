"""``ws_open_connection``: a whole ``$connect`` admission in one round trip (realtime.admission).

Under the advisory locks of the address and the user (held until the statement's transaction
commits, so count-then-insert is serialised across every replica): the duplicate-connection
check, the rate-limit counts and the open-session cap, the channel verdict the caller already
reached, the one-time token spent by one conditional UPDATE, the session INSERT and the
attempt INSERT. Every refusal is decided before the first write, so a refused connect spends
nothing; its attempt is recorded all the same, as the package does.

Additive only (expand): the previous release never calls it. A later change to it is a new
migration with ``CREATE OR REPLACE``; this one stays as it ran.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION ws_open_connection(
    p_gateway_id bigint,
    p_connection_id text,
    p_lock_keys bigint[],
    p_ip inet,
    p_user_id integer,
    p_now timestamptz,
    p_window_start timestamptz,
    p_max_attempts integer,
    p_max_connections integer,
    p_channel_allowed boolean,
    p_token text,
    p_session_key_hash text,
    p_token_not_before timestamptz,
    p_channel text,
    p_auth_hash text
) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    session_open boolean;
    by_ip bigint;
    by_user bigint;
    open_sessions bigint;
    verdict text;
BEGIN
    -- The gateway row the caller cached (validated here, where it costs no round trip).
    PERFORM 1 FROM django_aws_api_gateway_websockets_apigateway WHERE id = p_gateway_id;
    IF NOT FOUND THEN
        RETURN 'unknown_gateway';
    END IF;
    -- API Gateway retried a $connect: no writes, no attempt.
    SELECT connected INTO session_open
    FROM django_aws_api_gateway_websockets_websocketsession
    WHERE connection_id = p_connection_id;
    IF FOUND THEN
        RETURN CASE WHEN session_open THEN 'duplicate_open' ELSE 'duplicate_closed' END;
    END IF;
    -- Sorted, so two connects never take the same pair of locks in opposite order.
    PERFORM pg_advisory_xact_lock(key) FROM unnest(p_lock_keys) AS key ORDER BY key;
    SELECT count(*) FILTER (WHERE ip_address = p_ip),
           count(*) FILTER (WHERE user_id = p_user_id)
    INTO by_ip, by_user
    FROM django_aws_api_gateway_websockets_connectionratelimit
    WHERE attempt_time >= p_window_start AND (ip_address = p_ip OR user_id = p_user_id);
    SELECT count(*) INTO open_sessions
    FROM django_aws_api_gateway_websockets_websocketsession
    WHERE user_id = p_user_id AND connected;

    IF by_ip >= p_max_attempts OR by_user >= p_max_attempts THEN
        verdict := 'rate_limited';
    ELSIF open_sessions >= p_max_connections THEN
        verdict := 'connection_limit';
    ELSIF NOT p_channel_allowed THEN
        verdict := 'channel_rule';
    ELSE
        verdict := 'opened';
        IF p_token IS NOT NULL THEN
            -- As single-use as SELECT ... FOR UPDATE: a concurrent second UPDATE waits for
            -- the row, re-checks "used" and matches nothing.
            UPDATE django_aws_api_gateway_websockets_websockettoken SET used = true
            WHERE token = p_token AND session_key = p_session_key_hash AND user_id = p_user_id
              AND NOT used AND created_at >= p_token_not_before;
            IF NOT FOUND THEN
                verdict := 'token_invalid';
            END IF;
        END IF;
    END IF;

    IF verdict = 'opened' THEN
        INSERT INTO django_aws_api_gateway_websockets_websocketsession (
            connection_id, channel_name, user_id, connected, api_gateway_id, request_count,
            session_key_hash, auth_hash, created_on, updated_on
        ) VALUES (
            p_connection_id, p_channel, p_user_id, true, p_gateway_id, 1,
            coalesce(p_session_key_hash, ''), p_auth_hash, p_now, p_now
        );
    END IF;
    INSERT INTO django_aws_api_gateway_websockets_connectionratelimit (
        ip_address, user_id, attempt_time, successful
    ) VALUES (p_ip, p_user_id, p_now, verdict = 'opened');
    RETURN verdict;
END
$$;
"""

DROP = """
DROP FUNCTION IF EXISTS ws_open_connection(
    bigint, text, bigint[], inet, integer, timestamptz, timestamptz, integer, integer, boolean,
    text, text, timestamptz, text, text
);
"""


class Migration(migrations.Migration):
    dependencies = [
        ("realtime", "0003_message_budget"),
        ("django_aws_api_gateway_websockets", "0015_alter_apigateway_provisioning_status"),
    ]

    operations = [migrations.RunSQL(CREATE, reverse_sql=DROP)]
