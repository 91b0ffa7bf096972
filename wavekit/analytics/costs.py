"""Every price the cost estimates use, in one place (us-east-1 list prices).

The SQL never hard-codes a price: ``athena/usage_lambda_cost.sql`` takes them as
parameters from :meth:`Prices.lambda_params`, and Athena query costs come from
:meth:`Prices.athena_query_cost`. Update the numbers here when AWS changes them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from wavekit.analytics.sql import ParamValue

MIB = 1024**2
TIB = 1024**4


@dataclass(frozen=True)
class Prices:
    """List prices in USD; ``lambda_memory_gb`` is the function's configured memory."""

    lambda_price_per_request: float = 0.20 / 1_000_000
    lambda_price_per_gb_second: float = 0.0000166667  # x86_64; arm64 is about 20 % less
    api_price_per_request: float = 1.00 / 1_000_000  # HTTP API, first 300 M a month
    lambda_memory_gb: float = 1.0
    athena_price_per_tb: float = 5.0
    athena_minimum_bytes: int = 10 * MIB
    lambda_free_requests_per_month: int = 1_000_000
    lambda_free_gb_seconds_per_month: int = 400_000

    def lambda_params(self) -> dict[str, ParamValue]:
        """The parameters of ``usage_lambda_cost.sql``."""
        return {
            "memory_gb": self.lambda_memory_gb,
            "lambda_price_per_request": self.lambda_price_per_request,
            "lambda_price_per_gb_second": self.lambda_price_per_gb_second,
            "api_price_per_request": self.api_price_per_request,
        }

    def athena_query_cost(self, bytes_scanned: int) -> float:
        """USD for one Athena query: bytes rounded up to a MiB, 10 MiB minimum, per TiB."""
        billed = max(math.ceil(bytes_scanned / MIB) * MIB, self.athena_minimum_bytes)
        return billed / TIB * self.athena_price_per_tb


DEFAULT_PRICES = Prices()
ARM64_PRICES = Prices(lambda_price_per_gb_second=0.0000133334)
