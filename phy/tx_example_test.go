package phy_test

import (
	"fmt"

	"github.com/m4sc/m4sc/phy"
)

func ExampleTransmitter_Packet() {
	tx, err := phy.NewTransmitter(phy.TransmitterConfig{})
	if err != nil {
		panic(err)
	}
	rate, _ := phy.RateByMbps(36)
	psdu := phy.AppendFCS([]byte("a MAC frame"))
	if err := phy.CheckPacket(len(psdu), rate, 0b1011101); err != nil {
		panic(err)
	}
	samples := tx.Packet(nil, psdu, rate, 0b1011101)
	fmt.Printf("%d samples, N_SYM = %d\n", len(samples), rate.DataSymbols(len(psdu)))
	// Output: 481 samples, N_SYM = 1
}
