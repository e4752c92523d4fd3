package codec

import "unsafe"

func decoderSize() uintptr { return unsafe.Sizeof(Decoder{}) }
