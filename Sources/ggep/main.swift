import GGEP
print(GGEPVersion.semantic)
