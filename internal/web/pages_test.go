package web

import (
	"testing"

	"greenchannel/internal/sla"
)

func TestDeadlinesReadInWorkingDaysAndHours(t *testing.T) {
	for _, tc := range []struct {
		v     sla.View
		text  string
		class string
	}{
		{sla.View{State: sla.Running, RemainingMinutes: 300, TargetMinutes: 840}, "剩余 5 个工作小时", "ok"},
		{sla.View{State: sla.Running, RemainingMinutes: 420*2 + 130, TargetMinutes: 2000}, "剩余 2 个工作日 2 个工作小时", "ok"},
		{sla.View{State: sla.Running, RemainingMinutes: 100, TargetMinutes: 420}, "剩余 1 个工作小时", "risk"},
		{sla.View{State: sla.Running, RemainingMinutes: 30, TargetMinutes: 420}, "剩余 30 分钟", "risk"},
		{sla.View{State: sla.Breached, RemainingMinutes: -420, TargetMinutes: 420}, "已超时 1 个工作日", "breached"},
		{sla.View{State: sla.Paused, RemainingMinutes: 420, TargetMinutes: 4200}, "已暂停（等待企业补充材料），剩余 1 个工作日", "paused"},
		{sla.View{State: sla.Met}, "已按时完成", "done"},
	} {
		if got := clockText(&tc.v); got != tc.text {
			t.Errorf("%+v: text %q, want %q", tc.v, got, tc.text)
		}
		if got := clockClass(&tc.v); got != tc.class {
			t.Errorf("%+v: class %q, want %q", tc.v, got, tc.class)
		}
	}
	// The acknowledge clock shows while it runs; after acceptance, resolution.
	ack, res := &sla.View{Kind: sla.Acknowledge, State: sla.Running, RemainingMinutes: 60, TargetMinutes: 420}, &sla.View{Kind: sla.Resolution, State: sla.Running, RemainingMinutes: 4000, TargetMinutes: 4200}
	if c := deadline(sla.Block{Acknowledge: ack, Resolution: res}); c.Label != "受理期限" {
		t.Fatalf("running acknowledge: %+v", c)
	}
	ack.State = sla.Met
	if c := deadline(sla.Block{Acknowledge: ack, Resolution: res}); c.Label != "办结期限" {
		t.Fatalf("after acceptance: %+v", c)
	}
	if deadline(sla.Block{}) != nil {
		t.Fatal("no clocks must show no deadline")
	}
}

func TestDeadlinesReadInEnglish(t *testing.T) {
	for _, tc := range []struct {
		v    sla.View
		text string
	}{
		{sla.View{State: sla.Running, RemainingMinutes: 300, TargetMinutes: 840}, "5 working hours left"},
		{sla.View{State: sla.Running, RemainingMinutes: 420 + 60, TargetMinutes: 2000}, "1 working day 1 working hour left"},
		{sla.View{State: sla.Breached, RemainingMinutes: -840}, "overdue by 2 working days"},
		{sla.View{State: sla.Paused, RemainingMinutes: 30, TargetMinutes: 420}, "paused (waiting for the enterprise), 30 minutes left"},
		{sla.View{State: sla.Met}, "done in time"},
	} {
		if got := clockTextEn(&tc.v); got != tc.text {
			t.Errorf("%+v: %q, want %q", tc.v, got, tc.text)
		}
	}
}
