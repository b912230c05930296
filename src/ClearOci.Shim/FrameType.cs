namespace ClearOci.Shim;

public enum FrameType : byte { Request = 1, Response = 2, Data = 3 }
