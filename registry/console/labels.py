# ruff: noqa: RUF001 -- Chinese text is written with Chinese punctuation.
"""The console's words in English and Simplified Chinese: the interface, and every code the
registry stores (statuses, products, kinds, roles) as the words staff read. A page never
shows a code where a word exists."""

from __future__ import annotations

from collections.abc import Callable

LANGUAGES = ("zh", "en")
DEFAULT = "en"

# key: (English, 简体中文)
WORDS: dict[str, tuple[str, str]] = {
    # frame
    "app": ("Borrower Registry console", "借款人信息登记系统 · 协会控制台"),
    "nav.dashboard": ("Dashboard", "概览"),
    "nav.members": ("Members", "会员机构"),
    "nav.disputes": ("Disputes", "异议处理"),
    "nav.subjects": ("Borrower lookup", "借款人查询"),
    "nav.audit": ("Audit log", "审计日志"),
    "nav.operations": ("Operations", "运行维护"),
    "nav.staff": ("Staff", "工作人员"),
    "nav.api_docs": ("API docs", "接口文档"),
    "signed_in_as": ("Signed in as", "当前用户"),
    "sign_out": ("Sign out", "退出登录"),
    "language": ("Language", "语言"),
    "lang.en": ("English", "English"),
    "lang.zh": ("中文", "中文"),
    "yes": ("yes", "是"),
    "no": ("no", "否"),
    "none": ("none", "无"),
    "back": ("Back", "返回"),
    "search": ("Search", "搜索"),
    "filter": ("Filter", "筛选"),
    "all": ("all", "全部"),
    "download_csv": ("Download CSV", "下载 CSV"),
    "download_ndjson": ("Download NDJSON", "下载 NDJSON"),
    "confirm": ("Confirm", "确认"),
    "cancel": ("Cancel", "取消"),
    "copy": ("Copy", "复制"),
    "copied": ("Copied", "已复制"),
    "print": ("Print", "打印"),
    "empty": ("Nothing to show.", "暂无数据。"),
    # login
    "login.title": ("Sign in", "登录"),
    "login.email": ("Email", "电子邮箱"),
    "login.password": ("Password", "密码"),
    "login.otp": ("One-time code (authenticator app)", "动态验证码（身份验证器）"),
    "login.submit": ("Sign in", "登录"),
    "login.failed": (
        "Email, password or code not accepted.",
        "邮箱、密码或验证码不正确。",
    ),
    "login.throttled": (
        "Too many failed sign-ins. Wait a few minutes and try again.",
        "登录失败次数过多，请稍后再试。",
    ),
    "login.signed_out": ("You have signed out.", "您已退出登录。"),
    "login.expired": ("Your session ended. Sign in again.", "会话已结束，请重新登录。"),
    # errors
    "error.title": ("Something went wrong", "出错了"),
    "error.403": ("Your role does not allow this page or action.", "您的角色无权访问此页面或执行此操作。"),
    "error.403.csrf": (
        "The form was stale or did not come from this console; nothing was changed. Reload the page and try again.",
        "表单已过期或并非来自本控制台，未作任何更改。请刷新页面后重试。",
    ),
    "error.404": ("Not found.", "未找到。"),
    "error.429": ("Too many requests; wait and try again.", "请求过多，请稍后再试。"),
    "error.status": ("Status", "状态码"),
    # dashboard
    "dash.title": ("Industry dashboard", "行业概览"),
    "dash.live": ("Live records", "在册记录"),
    "dash.delinquency_rate": ("Delinquency rate", "逾期率"),
    "dash.uncollected_rate": ("Uncollected rate", "未催收率"),
    "dash.open_disputes": ("Open disputes", "待处理异议"),
    "dash.overdue_disputes": ("Overdue disputes", "超期异议"),
    "dash.stacked": ("Stacked borrowers (30 days)", "多头借贷借款人（30天）"),
    "dash.league": ("Members ranked by uncollected rate", "会员机构未催收率排名"),
    "dash.chart": ("The industry over 12 months", "近12个月行业走势"),
    "dash.rank": ("Rank", "排名"),
    "dash.reporting_age": ("Reporting age (days)", "报送时效（天）"),
    "dash.upheld_share": ("Disputes upheld", "异议成立比例"),
    "dash.records": ("Records", "记录数"),
    "dash.as_of": ("Figures as of", "数据截至"),
    "chart.delinquency": ("Delinquency rate", "逾期率"),
    "chart.uncollected": ("Uncollected rate", "未催收率"),
    # members
    "members.title": ("Members", "会员机构"),
    "members.search": ("Code or name", "机构代码或名称"),
    "members.onboard": ("Onboard a member", "新增会员机构"),
    "member.code": ("Code", "机构代码"),
    "member.name": ("Name", "名称"),
    "member.kind": ("Kind", "机构类型"),
    "member.status": ("Status", "状态"),
    "member.created": ("Joined", "加入时间"),
    "member.quota_exposure": ("Exposure quota (subjects per minute)", "查询配额（每分钟主体数）"),
    "member.quota_writes": ("Write quota (requests per second)", "报送配额（每秒请求数）"),
    "member.default_quota": ("service default", "系统默认"),
    "member.create": ("Onboard", "新增"),
    "member.profile": ("Profile", "基本信息"),
    "member.figures": ("Figures", "统计数据"),
    "member.series": ("Last 12 months", "近12个月"),
    "member.month": ("Month", "月份"),
    "member.new_delinquencies": ("New delinquencies", "新增逾期"),
    "member.disputes_received": ("Disputes received", "收到异议"),
    "member.inquiries": ("Inquiries", "查询次数"),
    "member.suspend": ("Suspend", "暂停"),
    "member.reactivate": ("Reactivate", "恢复"),
    "member.suspend.confirm": (
        "Suspend this member? Its API clients stop working on their very next request.",
        "确认暂停该会员机构？其所有接口客户端将在下一次请求时立即失效。",
    ),
    "member.reactivate.confirm": (
        "Reactivate this member? Its active API clients work again at once.",
        "确认恢复该会员机构？其有效的接口客户端将立即恢复可用。",
    ),
    "clients.title": ("API clients", "接口客户端"),
    "client.id": ("Client id", "客户端 ID"),
    "client.name": ("Name", "名称"),
    "client.scopes": ("Permissions", "权限"),
    "client.status": ("Status", "状态"),
    "client.last_used": ("Last used", "最近使用"),
    "client.create": ("Create a client", "创建客户端"),
    "client.revoke": ("Revoke", "吊销"),
    "client.revoke.confirm": ("Revoke this client? Its tokens stop working at once.", "确认吊销？其令牌将立即失效。"),
    "client.secret": ("Client secret", "客户端密钥"),
    "client.secret.once": (
        "This secret is shown once and cannot be shown again. Copy it now and hand it to the member securely.",
        "此密钥仅显示一次，之后无法再次查看。请立即复制，并以安全方式交给会员机构。",
    ),
    # disputes
    "disputes.title": ("Disputes inbox", "异议收件箱"),
    "disputes.deadline": ("Deadline", "答复期限"),
    "disputes.days_left": ("Days left", "剩余天数"),
    "disputes.overdue_only": ("Overdue only", "仅超期"),
    "disputes.received": ("Received", "收到时间"),
    "disputes.reason": ("Reason", "异议原因"),
    "disputes.records": ("Records", "涉及记录"),
    "disputes.filed_by": ("Filed by", "提交方"),
    "disputes.member": ("Member", "会员机构"),
    "dispute.title": ("Dispute", "异议"),
    "dispute.statement": ("The borrower's statement", "借款人陈述"),
    "dispute.covered": ("Records covered", "涉及的记录"),
    "dispute.answer": ("Lender's answer", "报送机构答复"),
    "dispute.history": ("History", "处理记录"),
    "dispute.resolve": ("Resolve", "作出处理"),
    "dispute.note": ("Note (kept with the dispute)", "处理说明（随异议存档）"),
    "dispute.overdue": ("overdue", "已超期"),
    "dispute.overdue_days": ("{n} days overdue", "已超期{n}天"),
    "dispute.resolution": ("Resolution", "处理结果"),
    "dispute.file": ("File a dispute for this borrower", "为该借款人提交异议"),
    "dispute.file.submit": ("File the dispute", "提交异议"),
    "record.institution": ("Institution", "机构"),
    "record.account": ("Account", "账户"),
    "record.product": ("Product", "产品"),
    "record.status": ("Status", "状态"),
    "record.collection": ("Collection", "催收阶段"),
    "record.outstanding": ("Outstanding", "未偿余额"),
    "record.overdue": ("Overdue", "逾期金额"),
    "record.delinquent_since": ("Delinquent since", "逾期起始日"),
    "record.as_of": ("As of", "数据日期"),
    "record.disputed": ("Disputed", "有异议"),
    "record.shown": ("Shown to lenders", "向机构展示"),
    "record.expires": ("Deleted after", "删除日期"),
    # subjects
    "subjects.title": ("Borrower lookup", "借款人查询"),
    "subjects.kind": ("Identity kind", "证件类型"),
    "subjects.identity": ("Identity number", "证件号码"),
    "subjects.key": ("Association hashing key (K_assoc, 64 hex characters)", "协会哈希密钥（K_assoc，64位十六进制）"),
    "subjects.key.note": (
        "The key stays in this browser tab only (session storage); neither it nor the number is ever sent. "
        "The page sends only the borrower token it computes.",
        "密钥仅保存在当前浏览器标签页中（会话存储），密钥和证件号码都不会发送到服务器，页面只发送计算出的借款人令牌。",
    ),
    "subjects.forget_key": ("Forget the key", "清除密钥"),
    "subjects.lookup": ("Look up", "查询"),
    "subjects.token": ("Borrower token", "借款人令牌"),
    "subjects.records": ("Accounts reported by lenders", "机构报送的账户"),
    "subjects.inquiries": ("Who looked this borrower up", "查询记录"),
    "subjects.when": ("When", "时间"),
    "subjects.purpose": ("Purpose", "查询原因"),
    "subjects.consent": ("Authorization", "授权编号"),
    "subjects.printable_zh": ("Printable report (中文)", "打印版报告（中文）"),
    "subjects.printable_en": ("Printable report (English)", "打印版报告（英文）"),
    "subjects.no_webcrypto": (
        "This browser cannot compute tokens here: open the console over HTTPS (or on this machine).",
        "当前浏览器无法在此计算令牌：请通过 HTTPS（或在本机）打开控制台。",
    ),
    "report.title": ("What the borrower registry holds about you", "借款人信息登记系统中关于您的信息"),
    "report.prepared": ("Prepared", "生成时间"),
    "report.footer": (
        "Negative information is deleted 5 years after the delinquency ends. To dispute an entry, contact the "
        "association; it must answer within 20 days.",
        "负面信息自逾期结束之日起保存5年后删除。如对任何信息有异议，请联系协会，协会须在20日内答复。",
    ),
    # audit
    "audit.title": ("Audit log", "审计日志"),
    "audit.at": ("When", "时间"),
    "audit.actor": ("Actor", "操作人"),
    "audit.member": ("Member", "会员机构"),
    "audit.action": ("Action", "操作"),
    "audit.resource": ("Resource", "对象"),
    "audit.outcome": ("Outcome", "结果"),
    "audit.since": ("From", "起始日期"),
    "audit.until": ("Until", "截止日期"),
    "audit.verify": ("Verify the chain", "校验审计链"),
    "audit.verify.ok": ("The audit log is intact: every checkpoint verifies.", "审计日志完整：所有检查点均校验通过。"),
    "audit.verify.bad": ("The audit log does not verify:", "审计日志校验未通过："),
    "audit.checkpoints": ("Checkpoints", "检查点"),
    "audit.sealed": ("Sealed rows", "已封存记录"),
    "audit.unsealed": ("Rows not sealed yet", "尚未封存记录"),
    "audit.more": ("Older entries", "更早的记录"),
    # operations
    "ops.title": ("Operations", "运行维护"),
    "ops.retention": ("Retention", "数据保留"),
    "ops.retention.last": ("Last pass", "最近一次执行"),
    "ops.retention.never": ("No pass yet.", "尚未执行。"),
    "ops.retention.run": ("Run a pass now", "立即执行"),
    "ops.retention.confirm": (
        "Run a retention pass now? Expired records and old inquiries are deleted for good.",
        "确认立即执行？过期记录和历史查询将被永久删除。",
    ),
    "ops.uploads": ("Upload jobs", "文件报送任务"),
    "ops.deliveries": ("Webhook deliveries failing or retrying", "失败或重试中的 Webhook 推送"),
    "ops.readiness": ("Readiness", "就绪状态"),
    "ops.ready": ("Ready", "就绪"),
    "ops.not_ready": ("Not ready", "未就绪"),
    "ops.migration": ("Database migration", "数据库迁移版本"),
    "ops.attempts": ("Attempts", "尝试次数"),
    "ops.last_error": ("Last error", "最近错误"),
    "ops.next_attempt": ("Next attempt", "下次尝试"),
    "ops.lines": ("Lines", "行数"),
    "ops.rejected": ("Rejected", "被拒绝"),
    "ops.started": ("Started", "开始时间"),
    # staff
    "staff.title": ("Staff accounts", "工作人员账户"),
    "staff.email": ("Email", "电子邮箱"),
    "staff.role": ("Role", "角色"),
    "staff.status": ("Status", "状态"),
    "staff.create": ("Create an account", "创建账户"),
    "staff.disable": ("Disable", "停用"),
    "staff.reset": ("Reset password and code", "重置密码和验证码"),
    "staff.once": (
        "Shown once: hand the password and the authenticator secret to the person securely.",
        "仅显示一次：请以安全方式将密码和验证器密钥交给本人。",
    ),
    "staff.totp_secret": ("Authenticator secret (TOTP)", "验证器密钥（TOTP）"),
}

# The registry's codes, as words.
CODES: dict[str, tuple[str, str]] = {
    # record status
    "status.current": ("current", "正常"),
    "status.settled": ("settled", "已结清"),
    "status.restructured": ("restructured", "已重组"),
    "status.dpd_1_30": ("1–30 days past due", "逾期1–30天"),
    "status.dpd_31_60": ("31–60 days past due", "逾期31–60天"),
    "status.dpd_61_90": ("61–90 days past due", "逾期61–90天"),
    "status.dpd_91_180": ("91–180 days past due", "逾期91–180天"),
    "status.dpd_over_180": ("over 180 days past due", "逾期180天以上"),
    "status.written_off": ("written off", "已核销"),
    # products
    "product.auto_loan": ("auto loan", "汽车贷款"),
    "product.mortgage": ("mortgage", "住房按揭"),
    "product.consumer_loan": ("consumer loan", "消费贷款"),
    "product.credit_card": ("credit card", "信用卡"),
    "product.enterprise_loan": ("enterprise loan", "企业贷款"),
    "product.project_finance": ("project finance", "项目融资"),
    "product.financial_lease": ("financial lease", "融资租赁"),
    "product.other": ("other", "其他"),
    # collection stages
    "collection.none": ("no collection", "未催收"),
    "collection.reminder": ("reminder", "提醒"),
    "collection.negotiation": ("negotiation", "协商"),
    "collection.restructuring": ("restructuring", "重组"),
    "collection.legal_action": ("legal action", "诉讼"),
    "collection.repossession": ("repossession", "收回抵押物"),
    "collection.agency": ("collection agency", "委外催收"),
    "collection.closed": ("closed", "已结束"),
    # member kinds and status
    "kind.association": ("association", "协会"),
    "kind.bank": ("bank", "银行"),
    "kind.auto_finance": ("auto finance company", "汽车金融公司"),
    "kind.consumer_finance": ("consumer finance company", "消费金融公司"),
    "kind.leasing": ("leasing company", "融资租赁公司"),
    "kind.microcredit": ("microcredit company", "小额贷款公司"),
    "kind.other": ("other", "其他"),
    "member_status.active": ("active", "正常"),
    "member_status.suspended": ("suspended", "已暂停"),
    "client_status.active": ("active", "有效"),
    "client_status.revoked": ("revoked", "已吊销"),
    # scopes
    "scope.records:write": ("report records", "报送记录"),
    "scope.records:read": ("read own records", "查看本机构记录"),
    "scope.exposure:read": ("query exposure", "查询借款人"),
    "scope.monitor": ("monitoring", "贷后监测"),
    "scope.disputes": ("disputes", "异议"),
    "scope.admin": ("association administration", "协会管理"),
    # disputes
    "dispute_status.open": ("open", "处理中"),
    "dispute_status.resolved": ("resolved", "已处理"),
    "reason.not_mine": ("not my account", "非本人账户"),
    "reason.wrong_status": ("wrong status", "状态有误"),
    "reason.wrong_amount": ("wrong amount", "金额有误"),
    "reason.already_settled": ("already settled", "已结清"),
    "reason.identity_theft": ("identity theft", "身份被冒用"),
    "reason.other": ("other", "其他"),
    "resolution.upheld": ("upheld", "异议成立"),
    "resolution.rejected": ("rejected", "异议不成立"),
    "resolution.unverifiable": ("unverifiable", "无法核实"),
    "response.confirm": ("confirmed as reported", "确认原报送"),
    "response.correct": ("correction proposed", "提出更正"),
    "outcome.corrected": ("corrected", "已更正"),
    "outcome.suppressed": ("suppressed", "已屏蔽"),
    "outcome.kept": ("kept", "保留"),
    "outcome.superseded": ("superseded by a newer report", "已被新报送取代"),
    "event.filed": ("filed", "提交"),
    "event.response": ("lender answered", "机构答复"),
    "event.resolved": ("resolved", "处理完结"),
    # inquiries
    "purpose.loan_application": ("loan application", "贷款审批"),
    "purpose.account_review": ("account review", "贷后管理"),
    "purpose.collection": ("collection", "催收"),
    "purpose.dispute_investigation": ("dispute investigation", "异议核查"),
    "purpose.guarantor_check": ("guarantor check", "担保资格审查"),
    # uploads and deliveries
    "upload.receiving": ("receiving", "接收中"),
    "upload.processing": ("processing", "处理中"),
    "upload.completed": ("completed", "已完成"),
    "upload.failed": ("failed", "失败"),
    "delivery.pending": ("retrying", "重试中"),
    "delivery.failed": ("failed", "失败"),
    "delivery.delivered": ("delivered", "已送达"),
    # staff
    "role.admin": ("administrator", "管理员"),
    "role.dispute_officer": ("dispute officer", "异议专员"),
    "role.analyst": ("analyst", "分析员"),
    "role.auditor": ("auditor", "审计员"),
    "staff_status.active": ("active", "正常"),
    "staff_status.disabled": ("disabled", "已停用"),
    # identity kinds
    "identity.cn_resident_id": ("PRC resident identity card", "居民身份证"),
    "identity.cn_uscc": ("Unified social credit code", "统一社会信用代码"),
    "identity.passport": ("Passport (country:number)", "护照（国家代码:号码）"),
}


def choose(accept_language: str | None, cookie: str | None) -> str:
    """The page's language: the switch's cookie, else the first of Accept-Language we speak."""
    if cookie in LANGUAGES:
        return cookie  # type: ignore[return-value]
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh"
        if tag.startswith("en"):
            return "en"
    return DEFAULT


def translator(lang: str) -> tuple[Callable[[str], str], Callable[[str, str | None], str]]:
    """`t(key)` for interface words and `word(group, code)` for a stored code."""
    index = 1 if lang == "zh" else 0

    def t(key: str) -> str:
        entry = WORDS.get(key)
        return entry[index] if entry else key

    def word(group: str, code: str | None) -> str:
        if code is None:
            return ""
        entry = CODES.get(f"{group}.{code}")
        return entry[index] if entry else code

    return t, word
