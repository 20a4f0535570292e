"""Statement files written by the tests, in every format PayFlow reads.

Each builder takes the same plain entries: (direction, amount in major-unit text, end-to-end id,
return reason, value date) so one scenario can be written in any format.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal


@dataclass
class Entry:
    direction: str  # "credit" | "debit"
    amount: str  # major units, e.g. "150.25"
    end_to_end_id: str = ""
    reason: str = ""
    value_date: dt.date = dt.date(2026, 12, 2)
    reference: str = ""


def closing_of(opening: str, entries: list[Entry]) -> Decimal:
    total = Decimal(opening)
    for e in entries:
        total += Decimal(e.amount) if e.direction == "credit" else -Decimal(e.amount)
    return total


def camt053(
    entries: list[Entry],
    *,
    version: str = "08",
    currency: str = "EUR",
    account: str = "DE89370400440532013000",
    statement_id: str = "STMT-1",
    opening: str = "10000.00",
    closing: str | Decimal | None = None,
    day: dt.date = dt.date(2026, 12, 2),
) -> bytes:
    closing = closing_of(opening, entries) if closing is None else closing

    def bal(code, amount):
        amount = Decimal(amount)
        ind = "CRDT" if amount >= 0 else "DBIT"
        return (
            f"<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp>"
            f'<Amt Ccy="{currency}">{abs(amount)}</Amt><CdtDbtInd>{ind}</CdtDbtInd>'
            f"<Dt><Dt>{day.isoformat()}</Dt></Dt></Bal>"
        )

    status = "<Sts>BOOK</Sts>" if version == "02" else "<Sts><Cd>BOOK</Cd></Sts>"
    ntries = []
    for e in entries:
        ind = "CRDT" if e.direction == "credit" else "DBIT"
        rtr = f"<RtrInf><Rsn><Cd>{e.reason}</Cd></Rsn></RtrInf>" if e.reason else ""
        ref = f"<RmtInf><Ustrd>{e.reference}</Ustrd></RmtInf>" if e.reference else ""
        ntries.append(
            f'<Ntry><Amt Ccy="{currency}">{e.amount}</Amt><CdtDbtInd>{ind}</CdtDbtInd>'
            f"{status}<BookgDt><Dt>{day.isoformat()}</Dt></BookgDt>"
            f"<ValDt><Dt>{e.value_date.isoformat()}</Dt></ValDt><AcctSvcrRef>B{len(ntries)}</AcctSvcrRef>"
            "<BkTxCd/><NtryDtls><TxDtls><Refs>"
            f"<EndToEndId>{e.end_to_end_id or 'NOTPROVIDED'}</EndToEndId></Refs>"
            f"{ref}{rtr}</TxDtls></NtryDtls></Ntry>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.{version}">'
        "<BkToCstmrStmt><GrpHdr><MsgId>M1</MsgId><CreDtTm>2026-12-02T18:00:00</CreDtTm></GrpHdr>"
        f"<Stmt><Id>{statement_id}</Id><CreDtTm>2026-12-02T18:00:00</CreDtTm>"
        f"<Acct><Id><IBAN>{account}</IBAN></Id><Ccy>{currency}</Ccy></Acct>"
        f"{bal('OPBD', opening)}{bal('CLBD', closing)}{''.join(ntries)}"
        "</Stmt></BkToCstmrStmt></Document>"
    ).encode()


def mt940(
    entries: list[Entry],
    *,
    currency: str = "EUR",
    account: str = "NL91ABNA0417164300",
    statement_id: str = "STMT-1",
    opening: str = "10000.00",
    closing: str | Decimal | None = None,
    day: dt.date = dt.date(2026, 12, 2),
) -> bytes:
    closing = closing_of(opening, entries) if closing is None else Decimal(closing)

    def money(value) -> str:
        return str(abs(Decimal(value))).replace(".", ",")

    def mark(value) -> str:
        return "C" if Decimal(value) >= 0 else "D"

    d = day.strftime("%y%m%d")
    rows = [
        f":20:{statement_id}",
        f":25:{account}",
        ":28C:00001/001",
        f":60F:{mark(opening)}{d}{currency}{money(opening)}",
    ]
    for e in entries:
        m = "C" if e.direction == "credit" else "D"
        ref = (e.end_to_end_id or "NONREF")[:16]
        rows.append(
            f":61:{e.value_date.strftime('%y%m%d')}{d[2:]}{m}{money(e.amount)}NTRF{ref}//BR1"
        )
        info = f"/EREF/{e.end_to_end_id}" if e.end_to_end_id else "/REMI/payment"
        if e.reason:
            info += f"/RTRN/{e.reason}"
        rows.append(f":86:{info}")
    rows.append(f":62F:{mark(closing)}{d}{currency}{money(closing)}")
    return ("\r\n".join(rows) + "\r\n-\r\n").encode()


def bai2(
    entries: list[Entry],
    *,
    currency: str = "USD",
    account: str = "1234567890",
    opening: int = 1_000_000,
    closing: int | None = None,
    day: dt.date = dt.date(2026, 12, 2),
    file_id: str = "7",
) -> bytes:
    def minor(text: str) -> int:
        return int(Decimal(text) * 100)

    if closing is None:
        closing = opening + sum(
            minor(e.amount) if e.direction == "credit" else -minor(e.amount) for e in entries
        )
    d = day.strftime("%y%m%d")
    rows = [
        f"01,SENDER,RECEIVER,{d},0800,{file_id},,,2/",
        f"02,RECEIVER,SENDER,1,{d},,{currency},2/",
        f"03,{account},{currency},010,{opening},,,015,{closing},,/",
    ]
    for e in entries:
        code = "495" if e.direction == "debit" else ("257" if e.reason else "195")
        text = f"{e.end_to_end_id} {e.reason}".strip()
        rows.append(
            f"16,{code},{minor(e.amount)},V,{e.value_date.strftime('%y%m%d')},,"
            f"BANKREF,{e.end_to_end_id}/"
        )
        rows.append(f"88,{text or 'PAYMENT'}")
    control = opening + closing + sum(minor(e.amount) for e in entries)
    rows.append(f"49,{control},{len(rows) - 1}/")
    rows.append(f"98,{control},1,{len(rows) + 1 - 1}/")
    rows.append(f"99,{control},1,{len(rows) + 1}/")
    return ("\n".join(rows) + "\n").encode()


def csv(
    entries: list[Entry],
    *,
    currency: str = "EUR",
    account: str = "DE89370400440532013000",
    statement_id: str = "STMT-1",
    opening: str = "10000.00",
    closing: str | Decimal | None = None,
    day: dt.date = dt.date(2026, 12, 2),
) -> bytes:
    closing = closing_of(opening, entries) if closing is None else closing
    head = (
        "type,account,currency,statement_id,booking_date,value_date,amount,end_to_end_id,"
        "reference,bank_reference,return_reason,description"
    )
    rows = [head, f"opening,{account},{currency},{statement_id},{day},,{opening},,,,,"]
    for e in entries:
        rows.append(
            f"{e.direction},{account},{currency},{statement_id},{day},{e.value_date},{e.amount},"
            f"{e.end_to_end_id},{e.reference},BR,{e.reason},payout"
        )
    rows.append(f"closing,{account},{currency},{statement_id},{day},,{closing},,,,,")
    return ("\n".join(rows) + "\n").encode()


BUILDERS = {"camt053": camt053, "mt940": mt940, "bai2": bai2, "csv": csv}
