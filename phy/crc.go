package phy

import (
	"encoding/binary"
	"hash/crc32"
)

// FCSLen is the length in octets of the MAC frame check sequence.
const FCSLen = 4

// AppendFCS appends the frame check sequence of frame (a MAC frame without its FCS) and
// returns the extended slice. The FCS is the CRC-32 of IEEE Std 802.11-2020 clause
// 9.2.4.8, the same polynomial, preset and final complement as Ethernet's, sent least
// significant octet first; hash/crc32's IEEE table computes it.
func AppendFCS(frame []byte) []byte {
	return binary.LittleEndian.AppendUint32(frame, crc32.ChecksumIEEE(frame))
}

// CheckFCS reports whether psdu (a MAC frame that ends with its FCS) carries a correct
// FCS (clause 9.2.4.8). A PSDU shorter than FCSLen octets fails.
func CheckFCS(psdu []byte) bool {
	n := len(psdu) - FCSLen
	if n < 0 {
		return false
	}
	return crc32.ChecksumIEEE(psdu[:n]) == binary.LittleEndian.Uint32(psdu[n:])
}
