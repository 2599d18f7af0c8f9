"""Property-based API test: schemathesis generates requests from the service's own OpenAPI document
and sends them over real HTTP; no response may be a server error or break the documented schema.

(schemathesis' pytest plugin does not run under pytest 9, so the test drives its API directly.)
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings

from .service_helpers import running


def test_api_never_fails_on_generated_requests():
    with running() as base:
        schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
        operations = [result.ok() for result in schema.get_all_operations()]
        assert {op.label for op in operations} >= {"POST /cds-services/{service_id}", "GET /cds-services"}
        for operation in operations:
            @given(case=operation.as_strategy())
            @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
            def check(case):
                case.call_and_validate()
            check()
