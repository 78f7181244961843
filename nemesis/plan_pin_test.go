package nemesis

import (
	"crypto/sha256"
	"fmt"
	"reflect"
	"testing"
	"time"
)

// The seeded deck depends on the order of kinds and of each kind's rules:
// these plans were computed before the kinds moved into files of their
// own, and must never change (same seed, same plan).
func TestPlansArePinned(t *testing.T) {
	pace := Pace{Interval: 5 * time.Second, TimeLimit: 60 * time.Second, LeaseExpiry: 4 * time.Second}
	for _, c := range []struct {
		seed  int64
		kinds []string
		limit time.Duration
		want  []Step
	}{
		{1, []string{KindPartition, KindPause, KindKill}, 60 * time.Second, []Step{
			{5000000000, 5737698601, "kill", "election-leader", 13257132440840147686},
			{13724612500, 9805078360, "partition", "raft-leader-mute", 7384364766397308163},
			{28149441409, 3773786615, "pause", "random-campaigner", 13702364131506505663},
			{35606507216, 5765601977, "partition", "raft-leader-deaf", 13638442551996008750},
			{45066296559, 7255610135, "kill", "election-leader", 15273306256216874776},
			{56361842952, 3638157048, "pause", "election-leader", 9812619815653326203},
		}},
		// Every kind there was when this plan was pinned (Kinds has grown).
		{7, []string{KindPartition, KindPause, KindFreeze, KindKill, KindWipe, KindLoss, KindDelay, KindClock}, 90 * time.Second, []Step{
			{5000000000, 6532867739, "loss", "election-leader", 15230273010813784063},
			{16233557992, 9212309151, "partition", "isolate-random-member", 5586433376400784317},
			{28391451634, 4973600323, "kill", "random-member", 7690284563362141590},
			{36807703151, 9382499627, "delay", "raft-leader", 14258391619083582032},
			{50906921141, 9833907539, "freeze", "election-leader", 5469326608485578704},
			{64584114573, 5708342496, "pause", "election-leader", 7889305946633437345},
			{73646720282, 7887623572, "clock", "slow-election-leader", 5537536010241664358},
			{84910614654, 5089385346, "wipe", "random-member", 5147896022948349410},
		}},
	} {
		p := pace
		p.TimeLimit = c.limit
		if got := Plan(c.seed, c.kinds, p); !reflect.DeepEqual(got, c.want) {
			t.Errorf("Plan(%d, %v) changed:\n got %v\nwant %v", c.seed, c.kinds, got, c.want)
		}
	}
}

// A wider sweep, pinned by digest: seeds 1-5, several --nemesis lists
// (named rules too), at etcd's and Consul's paces.
func TestPlanDigestsArePinned(t *testing.T) {
	kindSets := [][]string{
		{"partition", "pause", "kill"},
		{"partition", "pause", "freeze", "kill", "wipe", "loss", "delay", "clock"},
		{"clock"},
		{"partition"},
		{"pause:random-member", "clock:strobe-raft-leader", "loss", "delay"},
	}
	paces := []Pace{
		{Interval: 5 * time.Second, TimeLimit: 5 * time.Minute, LeaseExpiry: 4 * time.Second},
		{Interval: 10 * time.Second, TimeLimit: 240 * time.Second, LeaseExpiry: 30 * time.Second},
	}
	for _, c := range []struct {
		set    int // index in kindSets
		seed   int64
		pace   int // index in paces
		steps  int
		digest string
	}{
		{0, 1, 0, 31, "cfaae14847076f9ddaa3d294ca3ce8b767b2ad746e762e65048ddb035bced95b"},
		{0, 1, 1, 10, "2e05de317d6ae5c6799d43b269160701631e22b5720a5e6078681e34bfb85a5d"},
		{0, 2, 0, 30, "8d7fc8e1d830e44606a6ff2d8c83571361678d60cbdb79a53e0955dd44fe2d10"},
		{0, 2, 1, 10, "6dc661a09304a477f0d04607eed28f133380af7c1f7004f788e22588bebec2fc"},
		{0, 3, 0, 30, "a06cd40709d577fe344155e1296a509de3b263ac65d7c226fc4234552f4f60ae"},
		{0, 3, 1, 10, "9d38fe1165023ef83ef1aba5bfabc02f44a10071fa9acd5f80fb7777b826dc02"},
		{0, 4, 0, 30, "76f0f286eba5eaddce1ee6a54a1ca6a445c760a1065e87cd88b0301ec25adf20"},
		{0, 4, 1, 10, "3f9cf69a03ec8da6b5f9044ca213b2992ce0457ab21a84486506199a78231be4"},
		{0, 5, 0, 29, "c1d24616db714d9b2421084a95b4c943dd9a1539cae740e0d7e37cca446c3a29"},
		{0, 5, 1, 11, "51770a9333aa7991fa25271b02f023ffec1aba41a7e32a336c9507fbf279fc3f"},
		{1, 1, 0, 30, "ce113592db84eb1264e115ae0717a8ac28119a6853fea67084bd07c9da8378b0"},
		{1, 1, 1, 11, "74032e908f7981e2226d5d4f6ea9220521d288ccbe894e6ad7b6ead9fabb39da"},
		{1, 2, 0, 31, "a78771a5e85f98e30d645f5b59c77b855e57a43672f12055f8241cacb4ec9cc0"},
		{1, 2, 1, 12, "5e44dc1fe6a71676847f373f2017bfacd501173952626db69c0c26b2e089b9e6"},
		{1, 3, 0, 30, "c147de0336ff0c4f750ffb7c0aa92830ec3c45e47c4daa3453a258d350d49454"},
		{1, 3, 1, 10, "5fe8e49b8f1ba831934b0ad51d41b5b6e424ce4e651eb950b6ba28e5887e9815"},
		{1, 4, 0, 30, "23eb807e2d02eb94c97ff511c2c17f81af1eecac0f3c05872c56c97eb6ec5535"},
		{1, 4, 1, 10, "f54737839cbaadd4b99ef80e8d3ac02846be2f5402e6d698fe47612946cee10b"},
		{1, 5, 0, 31, "a6a8a14c726d30fa55ef08bc8e05cd937fc243d8ff6c9dd7027b2b0fd1cd7ba0"},
		{1, 5, 1, 10, "bea0dd6bd2acef508cb2203cd30cce3f653aeda219368bee85cb7d0027955d1d"},
		{2, 1, 0, 29, "1bb8823d189d99df0539897e9e9868b14f806f6205e86fbfbffe452ba01afaf5"},
		{2, 1, 1, 12, "10b6ef0712d690120b5d404a5b8fdb095912dc396cb4c67c55ebc32cabcce354"},
		{2, 2, 0, 30, "5dab084c11fa7c022fa0393fbfd29410883cc7463c5becd259ef4990b91f5a2c"},
		{2, 2, 1, 12, "d5fcb639af37bf6b82125183a89bb63394c3b6c0180d12a71272fd43497b4fc3"},
		{2, 3, 0, 30, "1949f75af2f20f071c74fd45f7898a4e383a28fab32403d4e0d14cff1bffca1f"},
		{2, 3, 1, 12, "9b2b89af24db7d3e1b7f3a6435595169c6dada373312d2059518b50a78f87b65"},
		{2, 4, 0, 30, "fb0a6b27d6ad9b1796837cc6fcb46d139b4c13976759fc311277e7830a8d7866"},
		{2, 4, 1, 12, "a8a95a46022d818960a649a6bac527eaf3471cf2f7a3741f2e444329b79a8474"},
		{2, 5, 0, 30, "d7bf840ad965c8e4ddfce7d14badc7d7e73a407f9f2cf6f2b08893326cef3081"},
		{2, 5, 1, 13, "9546d55d103ae2001f2a80ed69f7c0ee754bddaf57a4f11a9a98f3251d1f35dc"},
		{3, 1, 0, 30, "bfa106a2e88752f85c9ffd78c8bcb824ce05203c6c026a7224e7677a7be8c27b"},
		{3, 1, 1, 11, "127c65025e42bb8baebbf46830835d27b08d1feb319589bd463fe4217e694c0d"},
		{3, 2, 0, 29, "d9630ef85805ae65b88aae5055390aab852ec85631f5facbc19e56a8a29feb4c"},
		{3, 2, 1, 12, "371768459ea9d174dcecdecede42ca4f655a3730ac5910860aa9065391bd324b"},
		{3, 3, 0, 31, "336a457c3712ee2af3851f070948f7eda1da184ef06e04cdde344d09929b4062"},
		{3, 3, 1, 12, "ba01e00fa8952e26c9ab594ec1e9d6fe61b3d164389e02ebdbcd5c9cf2c6b8ad"},
		{3, 4, 0, 30, "d57fccffd6aceed01089f35834d4496356c28995f8d06e36a6c259d3ec4e7630"},
		{3, 4, 1, 12, "8a5f0ee2b4efcb7d660482895338ff9c3f10c65f5b49ecfe40f16ea7ebe00e3e"},
		{3, 5, 0, 28, "c2555ebfbac56d68590a430b039b26b8b39570758bccb5f5c7214b84c355bbdb"},
		{3, 5, 1, 12, "8790b07dcba0fec08bc50dba2df674242916b55afa31ec977908f45884f54f88"},
		{4, 1, 0, 30, "73112fc711c2860172b916a8a66a5b44a46ca6762f36d113e32cd08f58510ba8"},
		{4, 1, 1, 12, "ad860150bb28b6146c81e47ff0cc8caed2464278ad9f074a90cd1bb5c1c5e754"},
		{4, 2, 0, 31, "68b0db2e860522239fdea16e60ab53b6ad51042913b9d0c797290ba7ce744a5d"},
		{4, 2, 1, 12, "0d3fd794771cf8ad6d91587fb5b4eb7e71d1cf97e67670b72fbecdd77ef44fa7"},
		{4, 3, 0, 30, "c2544c1c31f362cafe801f2cc79c8ed0666d60da20ac611e57ce5a712a5ce60f"},
		{4, 3, 1, 12, "2e028310dce7ee6224ef36a3970a8b9ee37c897cac7896b76699fd336c0951ae"},
		{4, 4, 0, 31, "903e54d31b5b15c0240e036e72f398fc6e71f30d8e15aedf80f976b9ddbf6147"},
		{4, 4, 1, 12, "2b1720d46029e05065e4199c1fc1df3da6f306d0694413932879950325e3844d"},
		{4, 5, 0, 29, "2f2697fbcc30d8cdad253243e356254e5a12357e17ed398cb58b8f4932a18059"},
		{4, 5, 1, 12, "930c22e27515c61e0bb4c5dedb070ae30b295d8a5818f564805fac801ffd00f5"},
	} {
		steps := Plan(c.seed, kindSets[c.set], paces[c.pace])
		h := sha256.New()
		for _, s := range steps {
			fmt.Fprintf(h, "%d %d %s %s %d\n", s.Start, s.Duration, s.Kind, s.Rule, s.Pick)
		}
		if got := fmt.Sprintf("%x", h.Sum(nil)); len(steps) != c.steps || got != c.digest {
			t.Errorf("Plan(%d, %v, %+v): %d steps, digest %s; want %d, %s", c.seed, kindSets[c.set], paces[c.pace], len(steps), got, c.steps, c.digest)
		}
	}
}
