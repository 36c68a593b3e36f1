"""The simulator's Kraken REST: /0/public/{AssetPairs,Depth} and /0/private/<Method>.

Kraken answers errors with HTTP 200 and ``{"error": ["E<Category>:<text>"], "result": {}}``
(https://docs.kraken.com/api/docs/guides/spot-errors); private calls are verified with the
real signing scheme and a per-key increasing nonce.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from email.utils import formatdate
from urllib.parse import parse_qsl

from aiohttp import web
from arb_structs import Instrument, Side

from arb_venues.kraken import symbols as kraken_symbols
from arb_venues.kraken.signing import verify
from arb_venues.simapi import SimMarket, SimOrder, SimOrderError, venue_now_ns
from arb_venues.simapi import fixed_text as fmt

PRIVATE_METHODS = (
    "AddOrder",
    "QueryOrders",
    "OpenOrders",
    "ClosedOrders",
    "CancelOrder",
    "Balance",
)
_FIAT = frozenset({"USD", "EUR", "GBP", "CAD", "JPY", "AUD", "CHF"})
# https://docs.kraken.com/api/docs/guides/spot-clordid: UUID with dashes, 32 hex, or
# free text of up to 18 characters.
_CL_ORD_ID = re.compile(
    r"^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
    r"[0-9a-fA-F]{12}|[0-9a-fA-F]{32}|[ -~]{1,18})$"
)
# SimOrderError kinds -> Kraken's strings. Kraken documents no string for a duplicate
# cl_ord_id; the EOrder category is what its other order refusals use.
_ORDER_ERRORS = {
    "insufficient_balance": "EOrder:Insufficient funds",
    "unknown_symbol": "EQuery:Unknown asset pair",
    "duplicate_client_order_id": "EOrder:Duplicate order",
    "invalid_quantity": "EOrder:Order minimum not met",
    "invalid_price": "EOrder:Invalid price",
    "rejected": "EOrder:Invalid order",
}
_KRAKEN_STATUS = {
    "new": "open",
    "partially_filled": "open",
    "filled": "closed",
    "canceled": "canceled",
    "rejected": "canceled",
    "expired": "expired",
}


def kraken_body(error: list[str], result: object = None) -> str:
    return json.dumps(
        {"error": error, "result": {} if result is None else result}, separators=(",", ":")
    )


def _reply(result: object) -> web.Response:
    return web.Response(text=kraken_body([], result), content_type="application/json")


def _fail(*codes: str) -> web.Response:
    return web.Response(text=kraken_body(list(codes)), content_type="application/json")


def error_response(kind: str, retry_after_s: float | None) -> web.Response:
    """The core's injected faults, as Kraken would answer them."""
    headers = {"Retry-After": f"{retry_after_s:g}"} if retry_after_s is not None else {}
    if kind == "http_429":
        body, status = kraken_body(["EAPI:Rate limit exceeded"]), 429
    elif kind == "http_418":  # Kraken has no 418; its ban is the temporary lockout
        body, status = kraken_body(["EGeneral:Temporary lockout"]), 429
    else:
        body, status = kraken_body(["EService:Unavailable"]), 503
    return web.Response(status=status, text=body, content_type="application/json", headers=headers)


def asset_code(name: str) -> str:
    """Our asset name -> Kraken's REST code (BTC -> XXBT, USD -> ZUSD, USDT -> USDT)."""
    kraken = kraken_symbols.v1_symbol(f"{name}/X").partition("/")[0]
    for prefix in ("X", "Z"):
        if kraken_symbols.asset(prefix + kraken) == name and len(prefix + kraken) == 4:
            return prefix + kraken
    return kraken


def pair_key(instrument: Instrument) -> str:
    """The result key Kraken uses for a pair: XXBTZUSD for legacy assets, else the altname."""
    base, quote = asset_code(instrument.base), asset_code(instrument.quote)
    if len(base) == 4 and len(quote) == 4 and base[0] in "XZ" and quote[0] in "XZ":
        return base + quote
    return kraken_symbols.rest_pair(instrument.venue_symbol)


def txid_for(order_id: str) -> str:
    """A Kraken-shaped order id (OXXXXX-XXXXX-XXXXXX) derived from the core's order id."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    digest = hashlib.sha256(order_id.encode()).digest()
    text = "".join(alphabet[b % 32] for b in digest[:16])
    return f"O{text[:5]}-{text[5:10]}-{text[10:16]}"


@dataclass(frozen=True)
class _Placed:
    api_key: str
    symbol: str
    order_id: str
    client_order_id: str


class KrakenRest:
    def __init__(self, market: SimMarket) -> None:
        self.market = market
        self._nonces: dict[str, int] = {}
        self._orders: dict[str, _Placed] = {}  # txid -> where the core keeps it
        self._by_client_id: dict[tuple[str, str], str] = {}  # (api key, cl_ord_id) -> txid

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/0/public/AssetPairs", self.asset_pairs)
        app.router.add_get("/0/public/Assets", self.assets)
        app.router.add_get("/0/public/Time", self.server_time)
        app.router.add_get("/0/public/Depth", self.depth)
        for method in PRIVATE_METHODS:
            app.router.add_post(f"/0/private/{method}", self.private)

    # -- public ---------------------------------------------------------------------------------

    def _instrument(self, pair: str) -> Instrument | None:
        symbol = kraken_symbols.normalise(pair)
        return self.market.instruments.get(symbol or "")

    async def asset_pairs(self, request: web.Request) -> web.Response:
        wanted = request.query.get("pair")
        instruments = list(self.market.instruments.values())
        if wanted:
            picked = [self._instrument(p) for p in wanted.split(",")]
            if any(i is None for i in picked):
                return _fail("EQuery:Unknown asset pair")
            instruments = [i for i in picked if i is not None]
        return _reply({pair_key(i): _asset_pair(i) for i in instruments})

    async def assets(self, request: web.Request) -> web.Response:
        """GET /0/public/Assets: every asset of the simulated pairs by its REST code, or those
        of ``asset`` (comma-separated, codes or altnames)
        (https://docs.kraken.com/api/docs/rest-api/get-asset-info)."""
        names = sorted({a for i in self.market.instruments.values() for a in (i.base, i.quote)})
        rows = {asset_code(n): _asset(n) for n in names}
        wanted = request.query.get("asset")
        if wanted:
            by_alt = {str(row["altname"]): code for code, row in rows.items()}
            picked = [by_alt.get(w, w) for w in wanted.split(",")]
            if any(code not in rows for code in picked):
                return _fail("EQuery:Unknown asset")
            rows = {code: rows[code] for code in picked}
        return _reply(rows)

    async def server_time(self, request: web.Request) -> web.Response:
        """GET /0/public/Time (https://docs.kraken.com/api/docs/rest-api/get-server-time)."""
        now = venue_now_ns(self.market) / 1e9
        return _reply({"unixtime": int(now), "rfc1123": formatdate(now, usegmt=True)})

    async def depth(self, request: web.Request) -> web.Response:
        instrument = self._instrument(request.query.get("pair", ""))
        if instrument is None:
            return _fail("EQuery:Unknown asset pair")
        try:
            count = min(500, max(1, int(request.query.get("count", "100"))))
        except ValueError:
            return _fail("EGeneral:Invalid arguments:count")
        book = self.market.book(instrument.symbol)
        stamp = book.ts_ns // 1_000_000_000 or int(time.time())
        pd, sd = instrument.price_decimals, instrument.size_decimals

        def side(levels: list[tuple[Decimal, Decimal]]) -> list[list[object]]:
            return [[fmt(p, pd), fmt(s, sd), stamp] for p, s in levels[:count]]

        return _reply({pair_key(instrument): {"asks": side(book.asks), "bids": side(book.bids)}})

    # -- private --------------------------------------------------------------------------------

    async def private(self, request: web.Request) -> web.Response:
        method = request.path.rsplit("/", 1)[-1]
        body = await request.text()
        api_key = request.headers.get("API-Key", "")
        secret = self.market.secret_for(api_key) if api_key else None
        if secret is None:
            return _fail("EAPI:Invalid key")
        path = f"/0/private/{method}"  # what the client signed, whatever prefix we run under
        if not verify(secret, path, body, request.headers.get("API-Sign", "")):
            return _fail("EAPI:Invalid signature")
        fields = dict(parse_qsl(body, keep_blank_values=True))
        try:
            nonce = int(fields.get("nonce", ""))
        except ValueError:
            return _fail("EAPI:Invalid nonce")
        if nonce <= self._nonces.get(api_key, 0):
            return _fail("EAPI:Invalid nonce")
        self._nonces[api_key] = nonce
        if method == "AddOrder":
            return self._add_order(request, api_key, fields)
        if method == "QueryOrders":
            txids = [t for t in fields.get("txid", "").split(",") if t]
            found = {
                t: self._info(t)
                for t in txids
                if t in self._orders and self._orders[t].api_key == api_key
            }
            return _reply(found) if found else _fail("EOrder:Invalid order")
        if method in ("OpenOrders", "ClosedOrders"):
            return self._list_orders(api_key, fields, method == "OpenOrders")
        if method == "CancelOrder":
            return self._cancel(api_key, fields)
        return _reply(
            {
                asset_code(a): _amount(a, free + locked)
                for a, (free, locked) in self.market.balances(api_key).items()
            }
        )

    def _add_order(
        self, request: web.Request, api_key: str, fields: dict[str, str]
    ) -> web.Response:
        instrument = self._instrument(fields.get("pair", ""))
        if instrument is None:
            return _fail("EQuery:Unknown asset pair")
        if fields.get("ordertype") != "limit":
            return _fail("EGeneral:Invalid arguments:ordertype")
        if fields.get("type") not in ("buy", "sell"):
            return _fail("EGeneral:Invalid arguments:type")
        try:
            price, volume = Decimal(fields["price"]), Decimal(fields["volume"])
        except (KeyError, InvalidOperation):
            return _fail("EGeneral:Invalid arguments:volume")
        client_order_id = fields.get("cl_ord_id", "")
        if client_order_id and not _CL_ORD_ID.match(client_order_id):
            return _fail("EGeneral:Invalid arguments:cl_ord_id")
        tif = fields.get("timeinforce", "GTC")
        try:
            order = self.market.place_order(
                api_key,
                instrument.symbol,
                Side(fields["type"]),
                price,
                volume,
                tif,
                client_order_id,
            )
        except SimOrderError as exc:
            return _fail(_ORDER_ERRORS.get(exc.kind, "EOrder:Invalid order"))
        txid = txid_for(order.order_id)
        self._orders[txid] = _Placed(api_key, instrument.symbol, order.order_id, client_order_id)
        if client_order_id:
            self._by_client_id[(api_key, client_order_id)] = txid
        if self.market.faults.take("lose_response", instrument.symbol):
            if request.transport is not None:
                request.transport.close()  # executed, never answered
            raise ConnectionResetError("kraken sim: lose_response fault")
        pair = kraken_symbols.rest_pair(instrument.venue_symbol)
        text = f"{fields['type']} {fields['volume']} {pair} @ limit {fields['price']}"
        return _reply({"descr": {"order": text}, "txid": [txid]})

    def _order(self, txid: str) -> SimOrder | None:
        placed = self._orders[txid]
        return self.market.get_order(placed.api_key, placed.symbol, order_id=placed.order_id)

    def _info(self, txid: str) -> dict[str, object]:
        placed = self._orders[txid]
        order = self._order(txid)
        instrument = self.market.instruments[placed.symbol]
        if order is None:
            return {}
        return _order_info(order, instrument, placed.client_order_id)

    def _list_orders(self, api_key: str, fields: dict[str, str], want_open: bool) -> web.Response:
        """OpenOrders / ClosedOrders (``cl_ord_id`` filter); ClosedOrders newest first after
        ``start`` (exclusive unix time), 50 a page from offset ``ofs``, with the total count."""
        client_order_id = fields.get("cl_ord_id")
        try:
            start = float(fields.get("start") or 0)
            offset = int(fields.get("ofs") or 0)
        except ValueError:
            return _fail("EGeneral:Invalid arguments:start/ofs")
        txids = (
            [self._by_client_id.get((api_key, client_order_id), "")]
            if client_order_id
            else [t for t, p in reversed(self._orders.items()) if p.api_key == api_key]
        )
        orders: dict[str, dict[str, object]] = {}
        for txid in txids:
            if txid not in self._orders:
                continue
            info = self._info(txid)
            if info and (info["status"] in ("pending", "open")) == want_open:
                orders[txid] = info
        if want_open:
            return _reply({"open": orders})
        closed = [(t, i) for t, i in orders.items() if float(str(i["opentm"])) > start]
        return _reply({"closed": dict(closed[offset : offset + 50]), "count": len(closed)})

    def _cancel(self, api_key: str, fields: dict[str, str]) -> web.Response:
        client_order_id = fields.get("cl_ord_id")
        txid = (
            self._by_client_id.get((api_key, client_order_id), "")
            if client_order_id
            else fields.get("txid", "")
        )
        placed = self._orders.get(txid)
        if placed is None or placed.api_key != api_key:
            return _fail("EOrder:Unknown order")
        order = self._order(txid)
        if order is None or order.status not in ("new", "partially_filled"):
            return _fail("EOrder:Unknown order")  # only open orders can be cancelled
        self.market.cancel_order(api_key, placed.symbol, order_id=placed.order_id)
        return _reply({"count": 1})


def _asset(name: str) -> dict[str, object]:
    """One /0/public/Assets entry (``altname``: XBT for BTC, as Kraken names it)."""
    code = asset_code(name)
    altname = code[1:] if len(code) == 4 and code[0] in "XZ" else code
    return {"aclass": "currency", "altname": altname, "decimals": 10, "display_decimals": 5,
            "collateral_value": 1.0, "status": "enabled"}  # fmt: skip


def _asset_pair(instrument: Instrument) -> dict[str, object]:
    """One /0/public/AssetPairs entry (fee tiers in percent)."""
    taker = float(Decimal(instrument.taker_fee) * 100)
    maker = float(Decimal(instrument.maker_fee) * 100)
    return {
        "altname": kraken_symbols.rest_pair(instrument.venue_symbol),
        "wsname": kraken_symbols.v1_symbol(instrument.venue_symbol),
        "aclass_base": "currency",
        "base": asset_code(instrument.base),
        "aclass_quote": "currency",
        "quote": asset_code(instrument.quote),
        "lot": "unit",
        "cost_decimals": 5,
        "pair_decimals": instrument.price_decimals,
        "lot_decimals": instrument.size_decimals,
        "lot_multiplier": 1,
        "leverage_buy": [],
        "leverage_sell": [],
        "fees": [[0, taker]],
        "fees_maker": [[0, maker]],
        "fee_volume_currency": "ZUSD",
        "margin_call": 80,
        "margin_stop": 40,
        "ordermin": instrument.min_size,
        "costmin": instrument.min_notional,
        "tick_size": instrument.tick_size,
        "status": "online",
    }


def _order_info(order: SimOrder, instrument: Instrument, client_order_id: str) -> dict[str, object]:
    pd, sd = instrument.price_decimals, instrument.size_decimals
    pair = kraken_symbols.rest_pair(instrument.venue_symbol)
    price, volume = fmt(order.price, pd), fmt(order.size, sd)
    status = _KRAKEN_STATUS.get(order.status, "open")
    closed = status not in ("pending", "open")
    return {
        "refid": None,
        "userref": 0,
        "cl_ord_id": client_order_id or None,
        "status": status,
        "opentm": order.ts_created_ns / 1e9,
        "starttm": 0,
        "expiretm": 0,
        "descr": {
            "pair": pair,
            "type": order.side.value,
            "ordertype": "limit",
            "price": price,
            "price2": "0",
            "leverage": "none",
            "order": f"{order.side.value} {volume} {pair} @ limit {price}",
            "close": "",
        },
        "vol": volume,
        "vol_exec": fmt(order.filled, sd),
        "cost": fmt(order.quote_filled, 8),
        "fee": fmt(order.fee, 8),
        "price": fmt(order.avg_price, pd),
        "stopprice": "0",
        "limitprice": "0",
        "misc": "",
        "oflags": "fciq",
        **({"closetm": order.ts_updated_ns / 1e9, "reason": None} if closed else {}),
    }


def _amount(asset: str, value: Decimal) -> str:
    return fmt(value, 4 if asset in _FIAT else 10)
