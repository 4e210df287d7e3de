"""The master workbook's public contract in one place.

Every sheet, table, column key, localised label and column type lives here, so a column is
renamed in exactly one spot. The contract is ``shared/spec/workbook-contract.md``: table
names and column keys (and their order) are public; labels, sheet names and layout may be
localised.
"""
from __future__ import annotations

from dataclasses import dataclass

# Column kinds drive parsing (import, reading) and number formats (writing).
TEXT, CODE, DATE, DATETIME, MONEY, YUAN, INT, NUM, SHARE, SCORE, BOOL = (
    "text", "code", "date", "datetime", "money", "yuan", "int", "num", "share", "score", "bool")


@dataclass(frozen=True)
class Column:
    key: str
    zh: str
    en: str
    kind: str = TEXT
    required: bool = False
    width: float | None = None

    def label(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


@dataclass(frozen=True)
class Table:
    name: str
    sheet: str           # key of SHEETS
    direction: str       # "in" | "out" | "log"
    columns: tuple[Column, ...]
    zh: str = ""
    en: str = ""
    optional: bool = False

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(c.key for c in self.columns)

    def column(self, key: str) -> Column:
        for c in self.columns:
            if c.key == key:
                return c
        raise KeyError(key)

    def title(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


@dataclass(frozen=True)
class Sheet:
    key: str
    zh: str
    en: str

    def title(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


SHEETS: dict[str, Sheet] = {s.key: s for s in (
    Sheet("dashboard", "仪表板", "Dashboard"),
    Sheet("plan", "计划", "Plan"),
    Sheet("targets", "目标分解", "Targets"),
    Sheet("budget", "预算", "Budget"),
    Sheet("team", "团队", "Team"),
    Sheet("kpi_scheme", "考核方案", "KPI scheme"),
    Sheet("actuals", "实际业绩", "Actuals"),
    Sheet("rep_targets", "个人目标", "Rep targets"),
    Sheet("kpi", "绩效得分", "KPI"),
    Sheet("bonus", "季度奖金", "Bonus"),
    Sheet("awards", "年度评优", "Awards"),
    Sheet("watchlist", "观察名单", "Watchlist"),
    Sheet("checks", "检查结果", "Checks"),
    Sheet("run_log", "运行日志", "Run log"),
)}

C = Column
ACH = [("sales", "销售额达成", "Sales ach."), ("collection_rate", "回款率达成", "Collection ach."),
       ("new_customers", "新客户达成", "New cust. ach."), ("visits", "拜访达成", "Visits ach."),
       ("reports", "痛点分析达成", "Reports ach."), ("training_rate", "培训达成", "Training ach."),
       ("mentee_conversion", "带教达成", "Mentoring ach."), ("proposals", "提案达成", "Proposals ach.")]

TABLES: dict[str, Table] = {t.name: t for t in (
    Table("tblPlan", "plan", "in", (
        C("key", "参数", "Key", CODE, True, 24), C("value", "值", "Value", TEXT, False, 22),
        C("note", "说明", "Note", TEXT, False, 48)), "计划参数", "Plan settings"),
    Table("tblQuarterSplit", "targets", "in", (
        C("quarter", "季度", "Quarter", CODE, True, 9), C("amount", "目标金额", "Amount", YUAN, True, 16),
        C("stated_share", "计划占比", "Stated share", SHARE, False, 12)), "季度目标", "Quarter split"),
    Table("tblRegionSplit", "targets", "in", (
        C("region", "区域", "Region", CODE, True, 9), C("amount", "目标金额", "Amount", YUAN, True, 16),
        C("stated_share", "计划占比", "Stated share", SHARE, False, 12)), "区域目标", "Region split"),
    Table("tblProductSplit", "targets", "in", (
        C("product", "产品", "Product", CODE, True, 9), C("amount", "目标金额", "Amount", YUAN, True, 16),
        C("stated_share", "计划占比", "Stated share", SHARE, False, 12)), "产品目标", "Product split"),
    Table("tblCubePrior", "targets", "in", (
        C("region", "区域", "Region", CODE, True, 9), C("quarter", "季度", "Quarter", CODE, True, 9),
        C("product", "产品", "Product", CODE, True, 9), C("weight", "先验权重", "Weight", NUM, True, 14)),
        "分解先验(可选)", "Cube prior (optional)", optional=True),
    Table("tblTargetCube", "targets", "out", (
        C("region", "区域", "Region", CODE, width=9), C("quarter", "季度", "Quarter", CODE, width=9),
        C("product", "产品", "Product", CODE, width=9), C("target", "目标金额", "Target", YUAN, width=16)),
        "区域×季度×产品目标", "Target cube"),
    Table("tblRegions", "team", "in", (
        C("region", "区域", "Region", CODE, True, 9), C("name", "名称", "Name", TEXT, True, 10),
        C("manager", "区域经理", "Manager", TEXT, False, 12), C("email", "邮箱", "Email", TEXT, False, 26)),
        "区域", "Regions"),
    Table("tblTeam", "team", "in", (
        C("rep_id", "工号", "Rep ID", CODE, True, 9), C("name", "姓名", "Name", TEXT, True, 10),
        C("region", "区域", "Region", CODE, True, 9), C("role", "岗位", "Role", CODE, True, 18),
        C("hire_date", "入职日期", "Hire date", DATE, False, 12),
        C("end_date", "离职日期", "End date", DATE, False, 12),
        C("quota_weight", "指标权重", "Quota weight", NUM, False, 11),
        C("base_bonus", "季度基础奖金", "Base bonus", MONEY, False, 14),
        C("mentor_id", "导师工号", "Mentor ID", CODE, False, 10)), "团队", "Team"),
    Table("tblBudget", "budget", "in", (
        C("line_id", "科目编号", "Line ID", CODE, True, 15), C("line", "科目", "Line", TEXT, True, 30),
        C("parent_id", "上级科目", "Parent", CODE, False, 10), C("amount", "预算金额", "Amount", YUAN, True, 15),
        C("stated_ratio", "占营收比", "Stated ratio", SHARE, False, 11),
        C("itemised", "已全部细分", "Itemised", BOOL, False, 10),
        C("spent_to_date", "累计支出", "Spent to date", MONEY, False, 15)), "预算", "Budget"),
    Table("tblKpiScheme", "kpi_scheme", "in", (
        C("indicator", "指标", "Indicator", CODE, True, 18), C("group", "类别", "Group", CODE, True, 10),
        C("weight", "权重", "Weight", NUM, True, 8), C("target", "季度目标", "Quarterly target", NUM, False, 14),
        C("basis", "口径", "Basis", CODE, True, 13), C("cap", "封顶", "Cap", SHARE, True, 9)),
        "考核指标", "KPI scheme"),
    Table("tblActuals", "actuals", "in", (
        C("rep_id", "工号", "Rep ID", CODE, True, 9), C("quarter", "季度", "Quarter", CODE, True, 8),
        C("sales", "销售额", "Sales", MONEY, False, 15), C("collections", "回款额", "Collections", MONEY, False, 15),
        C("receivables", "应收额", "Receivables", MONEY, False, 15),
        C("new_customers", "新客户数", "New customers", INT, False, 10),
        C("visits", "有效拜访", "Visits", INT, False, 9), C("reports", "痛点分析", "Reports", INT, False, 9),
        C("training_rate", "培训参与率", "Training rate", SHARE, False, 11),
        C("mentee_conversion", "带教转正率", "Mentee conversion", SHARE, False, 11),
        C("proposals", "创新提案", "Proposals", INT, False, 9)), "季度实际", "Actuals"),
    Table("tblImprovement", "actuals", "in", (
        C("rep_id", "工号", "Rep ID", CODE, True, 9), C("quarter", "季度", "Quarter", CODE, True, 8),
        C("outcome", "改进结果", "Outcome", CODE, False, 10)), "改进期结果", "Improvement outcomes"),
    Table("tblRepTargets", "rep_targets", "out", (
        C("rep_id", "工号", "Rep ID", CODE, width=9), C("region", "区域", "Region", CODE, width=9),
        C("quarter", "季度", "Quarter", CODE, width=8),
        C("active_fraction", "在岗比例", "Active fraction", SHARE, width=11),
        C("sales_target", "销售目标", "Sales target", YUAN, width=15)), "个人季度目标", "Rep targets"),
    Table("tblChecks", "checks", "out", (
        C("area", "类别", "Area", CODE, width=12), C("item", "项目", "Item", TEXT, width=28),
        C("stated", "计划值", "Stated", NUM, width=16), C("computed", "计算值", "Computed", NUM, width=16),
        C("status", "状态", "Status", CODE, width=8), C("message", "说明", "Message", TEXT, width=60)),
        "一致性检查", "Checks"),
    Table("tblKpi", "kpi", "out", (
        C("rep_id", "工号", "Rep ID", CODE, width=9), C("quarter", "季度", "Quarter", CODE, width=8),
        *(C(f"ach_{k}", zh, en, SHARE, width=11) for k, zh, en in ACH),
        C("kpi_score", "KPI得分", "KPI score", SCORE, width=10)), "KPI得分", "KPI scores"),
    Table("tblBonus", "bonus", "out", (
        C("rep_id", "工号", "Rep ID", CODE, width=9), C("region", "区域", "Region", CODE, width=9),
        C("quarter", "季度", "Quarter", CODE, width=8), C("kpi_score", "KPI得分", "KPI score", SCORE, width=10),
        C("base_paid", "基础奖金", "Base paid", MONEY, width=13),
        C("excess_raw", "超额奖金(应发)", "Excess (raw)", MONEY, width=14),
        C("excess_paid", "超额奖金(实发)", "Excess paid", MONEY, width=14),
        C("new_customer_award", "新客户奖", "New-customer award", MONEY, width=12),
        C("collection_award", "回款奖", "Collection award", MONEY, width=12),
        C("total", "季度奖金合计", "Total", MONEY, width=14)), "季度奖金", "Quarterly bonus"),
    Table("tblAwards", "awards", "out", (
        C("award", "奖项", "Award", CODE, width=18), C("rep_id", "工号", "Rep ID", CODE, width=9),
        C("amount", "奖金", "Amount", MONEY, width=14), C("non_cash", "非现金奖励", "Non-cash", TEXT, width=30),
        C("provisional", "暂定", "Provisional", BOOL, width=10)), "年度评优", "Annual awards"),
    Table("tblWatchlist", "watchlist", "out", (
        C("rep_id", "工号", "Rep ID", CODE, width=9), C("region", "区域", "Region", CODE, width=9),
        C("status", "状态", "Status", CODE, width=18), C("since_quarter", "起始季度", "Since", CODE, width=9),
        C("period_start", "改进期开始", "Period start", DATE, width=12),
        C("period_end", "改进期结束", "Period end", DATE, width=12),
        C("owner", "负责人", "Owner", TEXT, width=12)), "观察名单", "Watchlist"),
    Table("tblRunLog", "run_log", "log", (
        C("timestamp", "时间", "Timestamp", DATETIME, width=20), C("user", "用户", "User", TEXT, width=12),
        C("action", "操作", "Action", CODE, width=10), C("input_sha256", "输入SHA256", "Input SHA-256", TEXT, width=66),
        C("summary", "摘要", "Summary", TEXT, width=60)), "运行日志", "Run log"),
)}

INPUT_TABLES = tuple(n for n, t in TABLES.items() if t.direction == "in")
OUTPUT_TABLES = tuple(n for n, t in TABLES.items() if t.direction == "out")

# Localised labels of codes that users pick from lists (data validation shows the codes).
ROLE_LABELS = {"senior_sales": ("资深销售", "Senior sales"), "sales": ("销售", "Sales"),
               "channel_specialist": ("渠道专员", "Channel specialist"),
               "ka_manager": ("大客户经理", "Key-account manager"),
               "director": ("销售总监", "Director"), "data_analyst": ("数据分析师", "Data analyst")}
STATUS_LABELS = {"OK": ("通过", "OK"), "WARN": ("注意", "Warning"), "FAIL": ("不通过", "Fail")}
WATCH_LABELS = {"warning": ("预警", "Warning"), "improvement_period": ("改进期", "Improvement period"),
                "reassign_or_exit": ("调岗或协商离职", "Reassign or part ways")}
AWARD_LABELS = {"sales_champion": ("销售冠军", "Sales champion"),
                "best_growth": ("最佳成长奖", "Best growth"),
                "team_contribution": ("团队贡献奖", "Team contribution")}
