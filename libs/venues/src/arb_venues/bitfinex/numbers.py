"""How Bitfinex writes and rounds numbers (shared by market, trading and the simulator).

- The WS and REST bodies carry JSON numbers written the way JavaScript writes them
  (``Number.prototype.toString``): no trailing zeros, and exponent form below 1e-6
  (``7e-7``, ``1.1e-7``) or from 1e21. The book checksum is computed over that text
  (fixtures/CHECKSUMS.md section 4: Python's ``repr`` gives ``7e-07``, which is wrong), so the
  simulator writes every number with ``js_text`` and the parser keeps the text it received.
- Prices have at most 5 significant digits and 8 decimals; amounts 8 decimals
  (https://docs.bitfinex.com/docs/introduction, "Price precision" / "Amount precision"): the
  price grid of a pair depends on the price, ``significant_tick`` gives it.
"""

from __future__ import annotations

from decimal import Decimal

PRICE_SIGNIFICANT_DIGITS = 5
MAX_DECIMALS = 8
LOT = "0.00000001"  # 8 decimals of amount on every pair


def js_text(value: Decimal) -> str:
    """``value`` as JavaScript's ``String(number)`` writes it: 60001, 0.5, -0.25, 7e-7."""
    if value.is_zero():
        return "0"
    sign, digits, exponent = value.normalize().as_tuple()
    assert isinstance(exponent, int), "finite values only"
    text = "".join(map(str, digits))
    k = len(text)
    n = exponent + k  # the decimal point sits after n digits
    if k <= n <= 21:
        out = text + "0" * (n - k)
    elif 0 < n <= 21:
        out = f"{text[:n]}.{text[n:]}"
    elif -6 < n <= 0:
        out = "0." + "0" * (-n) + text
    else:
        power = n - 1
        mantissa = text if k == 1 else f"{text[0]}.{text[1:]}"
        out = f"{mantissa}e{'+' if power > 0 else '-'}{abs(power)}"
    return ("-" if sign else "") + out


def significant_tick(price: Decimal, digits: int = PRICE_SIGNIFICANT_DIGITS) -> Decimal:
    """The price step at ``price`` with ``digits`` significant digits, never below 1e-8:
    60000 -> 1, 3000 -> 0.1, 150 -> 0.01, 0.00002532 -> 1e-8."""
    if price <= 0:
        return Decimal(1).scaleb(-MAX_DECIMALS)
    power = price.adjusted() - (digits - 1)
    return Decimal(1).scaleb(max(power, -MAX_DECIMALS))


def decimals_of(step: Decimal) -> int:
    exponent = step.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0
