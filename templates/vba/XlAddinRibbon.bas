Attribute VB_Name = "XlAddinRibbon"
' xl_addin ribbon callbacks.
'
' Part of the xl_addin project (MIT licence). Each button on the xl_addin ribbon tab
' (customUI/customUI14.xml) calls one Sub below through its onAction attribute. Every
' Sub hands the work to Python through RunPython, which comes from the xlwings VBA module
' that the build takes from the installed xlwings package. The Python side lives in
' xl_addin/excel/macros.py; each function there works on the workbook that is active when the
' button is clicked (xlwings passes it as the caller book).
'
' Keep this file ASCII: the VBA project is stored in code page 1252. Chinese text is
' built at run time with ChrW.
Option Explicit

Private Const XLADDIN_TITLE As String = "xl_addin"

' Button "Recalculate bonuses"
Public Sub XlAddin_Recalc(control As IRibbonControl)
    If Not XlAddin_HasWorkbook() Then Exit Sub
    RunPython "import xl_addin.excel.macros as m; m.recalc()"
End Sub

' Button "Check plan"
Public Sub XlAddin_Check(control As IRibbonControl)
    If Not XlAddin_HasWorkbook() Then Exit Sub
    RunPython "import xl_addin.excel.macros as m; m.check()"
End Sub

' Button "Regional workbooks"
Public Sub XlAddin_Regional(control As IRibbonControl)
    If Not XlAddin_HasWorkbook() Then Exit Sub
    RunPython "import xl_addin.excel.macros as m; m.regional()"
End Sub

' Button "Email regional workbooks"
Public Sub XlAddin_Email(control As IRibbonControl)
    If Not XlAddin_HasWorkbook() Then Exit Sub
    RunPython "import xl_addin.excel.macros as m; m.email()"
End Sub

' True when a workbook is active; otherwise tell the user (Chinese, then English).
Private Function XlAddin_HasWorkbook() As Boolean
    If ActiveWorkbook Is Nothing Then
        MsgBox XlAddin_OpenBookFirst() & vbNewLine & _
               "Please open the sales workbook first.", vbExclamation, XLADDIN_TITLE
        XlAddin_HasWorkbook = False
    Else
        XlAddin_HasWorkbook = True
    End If
End Function

' The Chinese sentence: open the sales workbook to work on first.
Private Function XlAddin_OpenBookFirst() As String
    XlAddin_OpenBookFirst = ChrW(&H8BF7) & ChrW(&H5148) & ChrW(&H6253) & ChrW(&H5F00) & _
        ChrW(&H8981) & ChrW(&H5904) & ChrW(&H7406) & ChrW(&H7684) & ChrW(&H9500) & _
        ChrW(&H552E) & ChrW(&H5DE5) & ChrW(&H4F5C) & ChrW(&H7C3F) & ChrW(&H3002)
End Function
