"""AWS's account-level throttle on API Gateway, WebSocket callback APIs included: a token
bucket of 10,000 requests per second with a bucket of 5,000
(https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html); a call over it gets
429 ``LimitExceededException``. Hand-written because the Management API must answer at once
("is there a token now?"), where rate-limiting libraries such as aiolimiter wait for one.
"""

import time
from dataclasses import dataclass, field


@dataclass
class TokenBucket:
    rate: float  # tokens added per second
    burst: float  # the bucket's capacity
    _tokens: float = field(init=False)
    _updated: float = field(init=False, default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self._tokens = self.burst

    def take(self) -> bool:
        """Spend one token if there is one; False means throttled."""
        now = time.monotonic()
        self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
        self._updated = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True
