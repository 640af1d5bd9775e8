"""The Portuguese prose of the exercise notebook: title, how to work, the two statements.

"How to work" and the lines above the code cells also have the text of the per-framework
exports (``EXPORT_HOW_TO_WORK``, ``export=True``), which the build stores in the cells'
``frametabs.export`` metadata (see :mod:`frametabs.export_text`).

The statements follow the exercise contract (``exercise-spec``) to the letter: shapes,
parameter name, constructors per framework, output types, MXNet's ``(..., m, 2)`` layout and
why ``ceil(n / 2)``. Tests check that these facts stay in the text.
"""

from __future__ import annotations

TITLE = """\
# Exercícios: camadas personalizadas

Estes são os dois exercícios avaliados da seção
[Camadas Personalizadas](custom-layers.ipynb). Os enunciados do livro original são vagos
(leitores discutem no fórum quais devem ser as formas e o que quer dizer "metade"); aqui eles
são exatos, e a verificação automática e o corretor seguem exatamente o que está escrito."""

HOW_TO_WORK = """\
## Como trabalhar

1. **Escolha o seu framework**: MXNet, PyTorch ou TensorFlow. Cada exercício tem uma célula
   de código por framework (uma aba no livro); a primeira linha da célula, por exemplo
   `%%tab pytorch`, diz de qual framework ela é. Cada framework roda em um espaço de nomes
   próprio, então as três versões de `TensorReduction` não se misturam.
2. **Escreva a sua classe** na célula do seu framework, no lugar de `# SEU CÓDIGO AQUI`, e
   apague os `raise NotImplementedError`. Não mude o nome da classe nem a assinatura do
   construtor: a verificação e o corretor usam os dois. Deixe o seu código em células
   `%%tab`, de preferência na própria célula da classe, com os `import` de que ela precisa:
   o corretor executa somente as células `%%tab` e pula as de verificação (as que têm a
   etiqueta `check`).
3. **Execute a célula de verificação** logo abaixo das classes. `check(TensorReduction)`
   testa a sua classe com entradas aleatórias e mostra, item por item, o que passou, o que
   falhou e o que ainda não foi implementado. Enquanto a classe levantar
   `NotImplementedError`, você verá "ainda não implementado".
4. **Um, dois ou três frameworks**: você pode resolver cada exercício em um só framework ou
   em mais de um. Cada exercício vale 10 pontos, divididos entre as verificações, e conta a
   melhor das suas implementações; uma classe que ainda levanta `NotImplementedError` conta
   como não tentada. O corretor sorteia entradas novas a cada correção, a partir de uma
   semente que fica registrada no relatório: a mesma semente dá a mesma nota.

Execute o caderno de cima para baixo. A primeira célula de código (escondida no livro)
carrega a mágica `%%tab`; as células dos frameworks que não estiverem instalados são puladas
com um aviso de uma linha."""

# What "Como trabalhar" says in a per-framework export (``{framework}``: its label), which
# has one class cell and one check cell per exercise and no ``%%tab`` markers.
EXPORT_HOW_TO_WORK = """\
## Como trabalhar

Este caderno traz os exercícios em {framework}; execute-o de cima para baixo. A primeira
célula de código instala o pacote deste livro, que traz a função `check`, onde ele ainda não
estiver instalado (no Colab, por exemplo).

1. **Escreva a sua classe** na célula de código do exercício, no lugar de `# SEU CÓDIGO AQUI`,
   e apague os `raise NotImplementedError`. Não mude o nome da classe nem a assinatura do
   construtor: a verificação e o corretor usam os dois. Deixe o seu código de preferência na
   própria célula da classe, com os `import` de que ela precisa: o corretor executa as células
   de código do caderno e pula as de verificação (as que têm a etiqueta `check`).
2. **Execute a célula de verificação** logo abaixo da classe. `check(TensorReduction)` testa a
   sua classe com entradas aleatórias e mostra, item por item, o que passou, o que falhou e o
   que ainda não foi implementado. Enquanto a classe levantar `NotImplementedError`, você verá
   "ainda não implementado".
3. **A nota**: cada exercício vale 10 pontos, divididos entre as verificações; uma classe que
   ainda levanta `NotImplementedError` conta como não tentada. O corretor sorteia entradas
   novas a cada correção, a partir de uma semente que fica registrada no relatório: a mesma
   semente dá a mesma nota."""


def markdown_table(header: tuple[str, str], rows: tuple[tuple[str, str], ...]) -> str:
    """A two-column Markdown table (rows are kept on one line each, as Markdown needs)."""
    lines = [f"| {header[0]} | {header[1]} |", "|---|---|"]
    lines += [f"| {left} | {right} |" for left, right in rows]
    return "\n".join(lines)


_REDUCTION_CONTRACT = markdown_table(
    ("", ""),
    (
        (
            "entrada `X`",
            "real, de forma `(batch, in_units)`, `float32` (ou `float64`, depois que a camada"
            " for convertida pelo próprio framework, como qualquer camada pronta: não fixe o"
            " tipo no seu código)",
        ),
        (
            "parâmetro",
            "chamado `weight`, de forma `(in_units, in_units, units)`, treinável e registrado"
            " no framework (aparece em `parameters()` no PyTorch, em `collect_params()` no"
            " MXNet e em `trainable_weights` no TensorFlow), inicializado com valores"
            " sorteados de uma distribuição normal",
        ),
        (
            "saída `Y`",
            "de forma `(batch, units)`, com"
            " `Y[b, k] = Σ_i Σ_j weight[i, j, k] · X[b, i] · X[b, j]`;"
            " sem viés e sem ativação",
        ),
        ("gradientes", "chegam a `weight` e a `X`: não use `.data` nem `detach`"),
    ),
)

_REDUCTION_CONSTRUCTORS = markdown_table(
    ("framework", "classe"),
    (
        (
            "MXNet",
            "`TensorReduction(units, in_units, **kwargs)`, um `nn.Block`; o peso é criado com"
            " `self.params.get('weight', ...)`",
        ),
        ("PyTorch", "`TensorReduction(in_units, units)`, um `nn.Module`"),
        (
            "TensorFlow",
            "`TensorReduction(units)`, uma camada ou um modelo do Keras (repasse `**kwargs` a"
            " `super().__init__`); o método `build(X_shape)` cria `weight`, pois `in_units` só"
            " é conhecido quando chega a primeira entrada",
        ),
    ),
)

TENSOR_REDUCTION = rf"""## Exercício 1: redução de tensor

Projete uma camada `TensorReduction` que recebe uma entrada e calcula uma redução de tensor,
ou seja, retorna $y_k = \sum_{{i, j}} W_{{ijk}} x_i x_j$.

Para um lote de exemplos, precisamente:

{_REDUCTION_CONTRACT}

O construtor segue as convenções da seção em cada framework (`MyDense(units, in_units)` no
MXNet, `MyLinear(in_units, units)` no PyTorch, `MyDense(units)` com `build` no TensorFlow):

{_REDUCTION_CONSTRUCTORS}

A fórmula é simétrica em $i$ e $j$ (trocar os dois apenas renomeia a soma), então tanto faz
qual dos dois primeiros eixos de `weight` você multiplica por `X[b, i]`. Já o eixo `k`, o das
saídas, tem de ser o último."""

_FOURIER_CONTRACT = markdown_table(
    ("", ""),
    (
        (
            "entrada `X`",
            r"real, `float32`, de forma `(..., n)` com $n \geq 1$ e qualquer número de eixos"
            " à frente (pelo menos `(batch, n)` e `(batch, channels, n)`)",
        ),
        (
            "saída",
            r"os primeiros $m = \lceil n/2 \rceil$ coeficientes da transformada discreta de"
            " Fourier (DFT) ao longo do último eixo, e apenas dele:"
            r" $C_{\ldots, k} = \sum_{t=0}^{n-1} X_{\ldots, t} \, e^{-2 \pi i k t / n}$"
            r" para $k = 0, \ldots, m - 1$, sem normalização; ou seja,"
            " `numpy.fft.fft(X, axis=-1)[..., :m]`",
        ),
        ("PyTorch e TensorFlow", "um tensor complexo de forma `(..., m)`"),
        (
            "MXNet",
            "o MXNet 1.x não tem tipo complexo e o seu operador de FFT só roda em GPU; por"
            " isso, um array real de forma `(..., m, 2)`, com a parte real e depois a parte"
            " imaginária de cada coeficiente, calculado na CPU (por exemplo, como um produto"
            " de matrizes com matrizes de cossenos e de senos)",
        ),
        ("parâmetros", "nenhum"),
        ("gradientes", "a camada é diferenciável em relação a `X`"),
    ),
)

FOURIER_HALF = rf"""## Exercício 2: a primeira metade dos coeficientes de Fourier

Projete uma camada `FourierHalf` que retorne a primeira metade dos coeficientes de Fourier
dos dados. (A tradução anterior dizia "metade anterior", uma tradução errada de *leading
half*: é a primeira metade.)

Precisamente:

{_FOURIER_CONTRACT}

O construtor não recebe argumentos próprios: `FourierHalf()` (no MXNet,
`FourierHalf(**kwargs)`, um `nn.Block`; no PyTorch, um `nn.Module`; no TensorFlow,
`FourierHalf(**kwargs)`, uma camada ou um modelo do Keras).

**Por que $\lceil n/2 \rceil$.** Para um sinal real, $C_{{n-k}}$ é o conjugado complexo de
$C_k$: a segunda metade dos coeficientes repete a primeira. Com $n$ ímpar, os
$\lceil n/2 \rceil$ primeiros coeficientes são exatamente os não redundantes; com $n$ par, são
os que ficam abaixo do termo de Nyquist $C_{{n/2}}$.

**Respostas erradas comuns**: transformar todos os eixos (`fftn`, que mistura os exemplos do
lote), devolver as magnitudes $|C_k|$, normalizar por $n$ e devolver `n // 2 + 1`
coeficientes (o que `rfft` devolve)."""


def code_intro(class_name: str, export: bool = False) -> str:
    """The line above an exercise's stubs (``export``: above its one class cell)."""
    if export:
        return f"Escreva a sua classe `{class_name}` na célula abaixo:"
    return f"Escreva a sua classe `{class_name}` na célula do seu framework:"


def check_intro(class_name: str, export: bool = False) -> str:
    """The line above an exercise's check cells (``export``: above its one check cell)."""
    if export:
        return f"Depois, verifique `{class_name}` executando a célula de verificação abaixo:"
    return (
        f"Depois, verifique `{class_name}` executando a célula de verificação do mesmo framework:"
    )
