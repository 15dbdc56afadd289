package bbcore

// ForceFallback makes cd give exactly the patches marked in fb to the fallback coder (plus
// any it needs as clean bits).
func ForceFallback(cd *Coder, fb []bool) { cd.force = fb }

// EncodeYCC is encodeYCC: the payload of img through exactly the planes p.
var EncodeYCC = encodeYCC
