package main

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"greenchannel/internal/casework"
)

// Realistic request texts. Every category has its own topics; descriptions
// are two to four sentences from a shared pool with numbers and names filled
// in, so the search terms look like production: many common bigrams (合同,
// 纠纷, 企业), a long tail of rarer ones (商标, 劳动仲裁), and digit words.

var categoryTopics = map[string][]string{
	"litigation_service":        {"网上立案流程咨询", "诉讼费缓交申请", "立案材料补正", "管辖法院确认", "诉前调解进度查询", "买卖合同纠纷立案"},
	"judgment_enforcement":      {"胜诉判决执行难", "被执行人财产查控", "执行款迟迟未到账", "申请强制执行货款", "执行进度查询", "合同款执行"},
	"ip_protection":             {"商标侵权纠纷", "专利被仿冒", "商业秘密泄露", "知识产权诉讼指引", "外观设计侵权", "网店商标被抢注"},
	"procuratorial_supervision": {"查封扣押财产异议", "冻结账户申请监督", "执法活动监督申请", "超范围查封企业资产"},
	"malicious_claims_report":   {"职业索赔人恶意投诉", "虚假诉讼举报", "恶意维权敲诈", "批量职业打假", "以商标侵权为名恶意投诉"},
	"economic_crime_report":     {"合同诈骗报案", "职务侵占线索", "员工挪用资金", "侵犯商业秘密报案", "虚开发票线索"},
	"security_protection":       {"厂区周边治安", "夜间有人翻墙", "阻工闹事", "施工现场被堵", "园区安全防范指导", "仓库物资被盗"},
	"emergency_assistance":      {"仓库遭人围堵", "工地发生冲突", "货车被拦截扣押", "人员受到威胁"},
	"commercial_mediation":      {"买卖合同纠纷调解", "货款拖欠纠纷", "劳资纠纷调解", "租赁合同争议", "工程款结算争议"},
	"legal_aid":                 {"劳动合同法律咨询", "企业法律体检", "股权转让法律咨询", "合同审查服务", "劳动仲裁应诉指导"},
	"enforcement_complaint":     {"多头检查投诉", "重复检查", "小过重罚", "趋利性执法投诉", "检查频次过高"},
}

// categoryWeights: how often each category is filed (sums to 100).
var categoryWeights = []struct {
	Code   string
	Weight int
}{
	{"security_protection", 16}, {"commercial_mediation", 14}, {"legal_aid", 14}, {"litigation_service", 10},
	{"judgment_enforcement", 9}, {"economic_crime_report", 8}, {"enforcement_complaint", 8}, {"ip_protection", 7},
	{"procuratorial_supervision", 5}, {"malicious_claims_report", 5}, {"emergency_assistance", 4},
}

var (
	titlePrefixes = []string{"", "", "关于", "请求协助处理", "咨询："}
	titleSuffixes = []string{"", "问题", "的求助", "事宜", "的咨询", "，请尽快处理"}
	towns         = []string{"五津街道", "花桥街道", "普兴街道", "花源街道", "兴义镇", "永商镇", "安西镇", "宝墩镇"}
	industries    = []string{"汽车零部件制造", "食品加工", "软件开发", "物流运输", "建筑施工", "电子商务", "新材料研发", "农产品销售"}
	parties       = []string{"某贸易公司", "下游经销商", "原供应商", "一名前员工", "合作方", "某建筑公司", "外地客户"}
	sentences     = []string{
		"我公司位于%[1]s，主要从事%[2]s，现有员工%[4]d人。",
		"%[5]d月以来，%[3]s拖欠我司货款%[6]d万元，多次催收无果。",
		"双方签订的买卖合同约定%[5]d个月内付清，对方至今未履行合同义务。",
		"近期有不明人员在厂区周边聚集，影响正常生产经营。",
		"希望相关部门能够提供法律指导并协调处理。",
		"已准备好合同、发票、聊天记录等证据材料，可随时提供。",
		"该事项涉及员工%[4]d人，情况较为紧急。",
		"%[3]s以商标侵权为由向平台投诉，导致店铺商品下架。",
		"我司曾于20%[7]d年申请劳动仲裁，目前尚无结果。",
		"请求依法处理，保障企业合法权益。",
		"此前已向%[1]s派出所反映，建议我们通过绿色通道提交。",
		"对方还威胁要在网上发布不实信息，损害公司商誉。",
		"涉及金额约%[6]d万元，关系到企业资金周转。",
		"联系人手机号1380000%[8]04d，工作日均可联系。",
		"执行案号为（20%[7]d）川0132执%[8]d号，至今未执行到位。",
		"另有一起租赁合同纠纷正在调解中。",
		"We also attach the English contract, reference PO-%[8]d.",
		"今年以来企业订单增长较快，急需稳定的经营环境。",
		"公司法务人员有限，希望得到专业指导。",
		"该问题已持续%[5]d个月，给企业造成较大损失。",
		"我们愿意配合调查，提供所需的全部材料。",
		"希望在%[5]d个工作日内得到答复。",
		"此事已影响到企业的正常融资和上市计划。",
		"园区管委会建议我们向政法机关反映。",
		"相关银行流水和往来函件已整理成册。",
		"企业负责人近期在外地出差，可电话联系。",
		"恳请有关部门依法依规予以支持。",
		"附件包括营业执照复印件和授权委托书。",
		"对方公司注册地在外省，沟通较为困难。",
		"项目投资额约%[6]d万元，涉及当地就业%[4]d人。",
		"此前曾通过12345热线反映，尚未得到解决。",
	}
)

// textGen makes titles and descriptions; not safe for concurrent use.
type textGen struct{ r *rand.Rand }

func newTextGen(seed uint64) *textGen {
	return &textGen{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

func (g *textGen) pick(xs []string) string { return xs[g.r.IntN(len(xs))] }

func (g *textGen) category() string {
	n := g.r.IntN(100)
	for _, c := range categoryWeights {
		if n < c.Weight {
			return c.Code
		}
		n -= c.Weight
	}
	return categoryWeights[0].Code
}

func (g *textGen) title(category string) string {
	return g.pick(titlePrefixes) + g.pick(categoryTopics[category]) + g.pick(titleSuffixes)
}

func (g *textGen) description(category string) string {
	var b strings.Builder
	// Open with the topic so the description matches its title.
	b.WriteString(g.pick(categoryTopics[category]))
	b.WriteString("。")
	n := 1 + g.r.IntN(2)
	for range n {
		s := g.pick(sentences)
		if !strings.Contains(s, "%") {
			b.WriteString(s)
			continue
		}
		fmt.Fprintf(&b, s, g.pick(towns), g.pick(industries), g.pick(parties),
			10+g.r.IntN(490), 1+g.r.IntN(12), 5+g.r.IntN(995), 19+g.r.IntN(7), g.r.IntN(10000))
	}
	return b.String()
}

// searchTerms and queryTerms are the product's own, so the bulk-loaded rows
// are indexed exactly as filed ones.
var (
	searchTerms = casework.SearchTerms
	queryTerms  = casework.QueryTerms
)

// pgArray renders a text[] literal for pgbench.
func pgArray(xs []string) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, x := range xs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('"')
		b.WriteString(strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(x))
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String()
}
