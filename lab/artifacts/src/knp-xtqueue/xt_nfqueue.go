package networkpolicy

// Added by the normaldance.platform lab build (lab/artifacts/build.py).
//
// Upstream queues packets with the native nftables "queue" expression, which
// needs the kernel's nft_queue support. Some kernels (the lab machines' among
// them) are built without it but with nft_compat and the xtables NFQUEUE
// target. nfqueueTarget expresses the same verdict through that target, so
// the rules and the user-space queue handling stay unchanged.

import (
	"encoding/binary"

	"github.com/google/nftables/expr"
	"github.com/google/nftables/xt"
)

// xtNFQueueRevision is the revision of struct xt_NFQ_info_v3
// (queuenum, queues_total, flags; all __u16 in host byte order).
const xtNFQueueRevision = 3

// xtNFQueueFlagBypass is NFQ_FLAG_BYPASS: accept packets when no program
// listens on the queue.
const xtNFQueueFlagBypass = 0x01

func nfqueueTarget(queueNum uint16, bypass bool) expr.Any {
	info := make([]byte, 6)
	binary.NativeEndian.PutUint16(info[0:2], queueNum)
	binary.NativeEndian.PutUint16(info[2:4], 1)
	if bypass {
		binary.NativeEndian.PutUint16(info[4:6], xtNFQueueFlagBypass)
	}
	payload := xt.Unknown(info)
	return &expr.Target{Name: "NFQUEUE", Rev: xtNFQueueRevision, Info: &payload}
}
