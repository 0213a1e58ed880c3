"""Schemathesis hooks for the Connect API (loaded by scripts/schemathesis.sh).

`cursor` is a token only the server makes: HMAC-signed for one tenant and one list, so any
generated value, however well it fits the schema, is rejected with 400, as the spec says; a
checker would report that as a schema-valid request rejected. So a *valid* case is sent without
its generated cursor (an invalid case keeps it: the server must reject it, and does). The cursor
itself is tested by the project's own suite: forged, altered and borrowed cursors are 400, and a
walk under concurrent inserts and renames sees every original user once.
"""

import schemathesis


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    meta = getattr(case, "meta", None)
    positive = meta is not None and meta.generation.mode.is_positive
    if positive and case.query and "cursor" in case.query:
        case.query = {name: value for name, value in case.query.items() if name != "cursor"}
