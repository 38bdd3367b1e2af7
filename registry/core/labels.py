"""Words for the registry's codes, in Chinese and English, for pages that people read (the
borrower's subject report, the console): a borrower reads words such as "61 to 90 days past due",
never `dpd_61_90`. One table per vocabulary, value -> (zh, en); `word` looks one up, and
`language_for` picks the language from an Accept-Language header."""

# Ranges are written with an en dash, and Chinese with its own punctuation: both on purpose.
# ruff: noqa: RUF001

from __future__ import annotations

from typing import Literal

Language = Literal["zh", "en"]
LANGUAGES: tuple[Language, ...] = ("zh", "en")
DEFAULT_LANGUAGE: Language = "en"

Words = dict[str, tuple[str, str]]

SUBJECT_TYPE: Words = {
    "individual": ("个人", "Individual"),
    "enterprise": ("企业", "Enterprise"),
}

PRODUCT: Words = {
    "auto_loan": ("汽车贷款", "Auto loan"),
    "mortgage": ("住房按揭贷款", "Mortgage"),
    "consumer_loan": ("消费贷款", "Consumer loan"),
    "credit_card": ("信用卡", "Credit card"),
    "enterprise_loan": ("企业贷款", "Enterprise loan"),
    "project_finance": ("项目融资", "Project finance"),
    "financial_lease": ("融资租赁", "Financial lease"),
    "other": ("其他", "Other"),
}

STATUS: Words = {
    "current": ("正常", "Current"),
    "settled": ("已结清", "Settled"),
    "restructured": ("已重组", "Restructured"),
    "dpd_1_30": ("逾期1–30天", "1–30 days past due"),
    "dpd_31_60": ("逾期31–60天", "31–60 days past due"),
    "dpd_61_90": ("逾期61–90天", "61–90 days past due"),
    "dpd_91_180": ("逾期91–180天", "91–180 days past due"),
    "dpd_over_180": ("逾期180天以上", "More than 180 days past due"),
    "written_off": ("已核销", "Written off"),
}

COLLECTION_STAGE: Words = {
    "none": ("未催收", "No collection action"),
    "reminder": ("提醒还款", "Payment reminder"),
    "negotiation": ("协商还款", "Negotiation"),
    "restructuring": ("债务重组中", "Restructuring"),
    "legal_action": ("诉讼", "Legal action"),
    "repossession": ("收回抵押物", "Repossession"),
    "agency": ("委托催收", "Collection agency"),
    "closed": ("催收结束", "Collection closed"),
}

ARRANGEMENT: Words = {
    "none": ("无", "None"),
    "payment_plan": ("还款计划", "Payment plan"),
    "extension": ("展期", "Extension"),
    "restructure": ("债务重组", "Restructure"),
}

PURPOSE: Words = {
    "loan_application": ("贷款审批", "Loan application"),
    "account_review": ("贷后管理", "Account review"),
    "collection": ("催收", "Collection"),
    "dispute_investigation": ("异议核查", "Dispute investigation"),
}

DISPUTE_REASON: Words = {
    "not_mine": ("非本人业务", "Not my account"),
    "wrong_status": ("状态有误", "Wrong status"),
    "wrong_amount": ("金额有误", "Wrong amount"),
    "already_settled": ("已经结清", "Already settled"),
    "identity_theft": ("身份被冒用", "Identity theft"),
    "other": ("其他", "Other"),
}

DISPUTE_STATUS: Words = {
    "open": ("处理中", "Being handled"),
    "resolved": ("已处理", "Resolved"),
}

DISPUTE_RESOLUTION: Words = {
    "upheld": ("异议成立", "Upheld"),
    "rejected": ("异议不成立", "Rejected"),
    "unverifiable": ("无法核实", "Could not be verified"),
}

PARTY_ROLE: Words = {
    "guarantor": ("担保人", "Guarantor"),
    "co_borrower": ("共同借款人", "Co-borrower"),
}

MEMBER_KIND: Words = {
    "association": ("行业协会", "Association"),
    "bank": ("银行", "Bank"),
    "auto_finance": ("汽车金融公司", "Auto-finance company"),
    "consumer_finance": ("消费金融公司", "Consumer-finance company"),
    "leasing": ("融资租赁公司", "Leasing company"),
    "microcredit": ("小额贷款公司", "Microcredit company"),
    "other": ("其他", "Other"),
}

YES_NO: Words = {
    "yes": ("是", "Yes"),
    "no": ("否", "No"),
}


def word(words: Words, value: str | None, language: Language) -> str:
    """The word for `value` in `language`; an unknown value is shown as it is, a None as ""."""
    if value is None:
        return ""
    pair = words.get(value)
    return value if pair is None else pair[LANGUAGES.index(language)]


def yes_no(flag: bool, language: Language) -> str:
    return word(YES_NO, "yes" if flag else "no", language)


def language_for(accept_language: str | None) -> Language:
    """The first language of the header (by `q`, then order) that the registry speaks: `zh`
    (any `zh-*`) or `en`; English when the header names neither."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, *params = (p.strip() for p in part.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        primary = tag.lower().split("-")[0]
        if quality > 0 and primary in LANGUAGES:
            ranked.append((-quality, position, primary))
    return min(ranked)[2] if ranked else DEFAULT_LANGUAGE  # type: ignore[return-value]
